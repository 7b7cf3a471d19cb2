package dev.reprise.image.store;

import dev.reprise.events.Dependency;
import dev.reprise.image.deps.DependencySet;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The images and their dependencies in this service's own schema. */
@ApplicationScoped
public class ImageStore {

    private static final String COLUMNS = "id, dependency_hash, tag, reference, base_image, base_digest, size_bytes, registry_digest, status,"
            + " build_log, failure_reason, metadata::text AS metadata, created_at, last_used_at, cache_hits, build_started_at, build_finished_at";

    /** A page of images and how many match in all. */
    public record Page(List<ImageRow> items, long total) {
    }

    /** Counts for the stats endpoint. */
    public record Stats(long images, long completed, long building, long failed, long bytes, long hits) {
    }

    private final Pool pool;

    public ImageStore(Pool pool) {
        this.pool = pool;
    }

    /**
     * Adds the set as a PENDING image unless its hash is already known.
     *
     * @return true when this call added it (and so should see it built)
     */
    public Uni<Boolean> insertPending(String id, DependencySet set, String tag, String reference) {
        return pool.withTransaction(tx -> tx.preparedQuery("""
                INSERT INTO images (id, dependency_hash, tag, reference, base_image, base_digest, status, build_log)
                VALUES ($1, $2, $3, $4, $5, $6, 'PENDING', '') ON CONFLICT (dependency_hash) DO NOTHING""")
                .execute(Tuple.from(List.of(id, set.hash(), tag, reference, set.baseImage(), set.baseDigest())))
                .flatMap(inserted -> inserted.rowCount() == 0 ? Uni.createFrom().item(false) : insertDependencies(tx, id, set)));
    }

    private static Uni<Boolean> insertDependencies(SqlConnection tx, String id, DependencySet set) {
        if (set.dependencies().isEmpty()) {
            return Uni.createFrom().item(true);
        }
        List<Tuple> rows = set.dependencies().stream().map(d -> Tuple.of(id, d.type(), d.name(), d.version())).toList();
        return tx.preparedQuery("INSERT INTO image_dependencies (image_id, type, name, version) VALUES ($1, $2, $3, $4)")
                .executeBatch(rows).replaceWith(true);
    }

    public Uni<Optional<ImageRow>> findByHash(String hash) {
        return one("SELECT " + COLUMNS + " FROM images WHERE dependency_hash = $1", Tuple.of(hash));
    }

    public Uni<Optional<ImageRow>> find(String id) {
        return one("SELECT " + COLUMNS + " FROM images WHERE id = $1", Tuple.of(id));
    }

    public Uni<Page> list(int page, int size, String baseImage) {
        String where = baseImage == null ? "" : " WHERE base_image = $3";
        Tuple args = baseImage == null ? Tuple.of(size, (long) page * size) : Tuple.of(size, (long) page * size, baseImage);
        Uni<List<ImageRow>> items = pool.preparedQuery("SELECT " + COLUMNS + " FROM images" + where
                + " ORDER BY created_at DESC, id LIMIT $1 OFFSET $2").execute(args).flatMap(this::withDependencies);
        Uni<Long> total = baseImage == null
                ? pool.query("SELECT count(*) FROM images").execute().map(rows -> rows.iterator().next().getLong(0))
                : pool.preparedQuery("SELECT count(*) FROM images WHERE base_image = $1").execute(Tuple.of(baseImage))
                        .map(rows -> rows.iterator().next().getLong(0));
        return Uni.combine().all().unis(items, total).asTuple().map(t -> new Page(t.getItem1(), t.getItem2()));
    }

    /** Images built on {@code baseImage} (as the set named it). */
    public Uni<List<ImageRow>> byBase(String baseImage) {
        return pool.preparedQuery("SELECT " + COLUMNS + " FROM images WHERE base_image = $1").execute(Tuple.of(baseImage))
                .flatMap(this::withDependencies);
    }

    /** Takes a PENDING or FAILED image for building; false when another builder has it or it is done. */
    public Uni<Boolean> claimForBuild(String id) {
        return pool.preparedQuery("""
                UPDATE images SET status = 'BUILDING', build_started_at = now(), heartbeat_at = now(), build_finished_at = NULL,
                       build_log = '', failure_reason = NULL
                WHERE id = $1 AND status IN ('PENDING', 'FAILED')""").execute(Tuple.of(id)).map(r -> r.rowCount() == 1);
    }

    /** Appends build output (readable through get while the build runs) and proves the builder alive. */
    public Uni<Void> appendLog(String id, String text) {
        return pool.preparedQuery("UPDATE images SET build_log = COALESCE(build_log, '') || $2, heartbeat_at = now() WHERE id = $1")
                .execute(Tuple.of(id, text)).replaceWithVoid();
    }

    public Uni<Void> completed(String id, String digest, long sizeBytes, String metadataJson) {
        return pool.preparedQuery("""
                UPDATE images SET status = 'COMPLETED', registry_digest = $2, size_bytes = $3, metadata = $4,
                       build_finished_at = now(), heartbeat_at = NULL, last_used_at = now()
                WHERE id = $1""").execute(Tuple.of(id, digest, sizeBytes, new io.vertx.core.json.JsonObject(metadataJson))).replaceWithVoid();
    }

    public Uni<Void> failed(String id, String reason) {
        return pool.preparedQuery("""
                UPDATE images SET status = 'FAILED', failure_reason = $2, build_finished_at = now(), heartbeat_at = NULL
                WHERE id = $1""").execute(Tuple.of(id, reason)).replaceWithVoid();
    }

    /** A lookup answered by this image. */
    public Uni<Void> recordHit(String id) {
        return pool.preparedQuery("UPDATE images SET cache_hits = cache_hits + 1, last_used_at = now() WHERE id = $1")
                .execute(Tuple.of(id)).replaceWithVoid();
    }

    public Uni<Boolean> delete(String id) {
        return pool.preparedQuery("DELETE FROM images WHERE id = $1").execute(Tuple.of(id)).map(r -> r.rowCount() == 1);
    }

    /** Builds whose builder stopped proving it runs: failed, so the next resolve builds them again. */
    public Uni<List<String>> failAbandoned(Duration silentFor) {
        return pool.preparedQuery("""
                UPDATE images SET status = 'FAILED', build_finished_at = now(), heartbeat_at = NULL,
                       failure_reason = 'the build stopped (its builder went away mid-build); resolve or build again to retry'
                WHERE status = 'BUILDING' AND heartbeat_at < now() - make_interval(secs => $1) RETURNING id""")
                .execute(Tuple.of((double) silentFor.toSeconds())).map(rows -> {
                    List<String> ids = new ArrayList<>();
                    rows.forEach(row -> ids.add(row.getString("id")));
                    return ids;
                });
    }

    public Uni<Stats> stats() {
        return pool.query("""
                SELECT count(*) AS images, count(*) FILTER (WHERE status = 'COMPLETED') AS completed,
                       count(*) FILTER (WHERE status IN ('PENDING', 'BUILDING')) AS building,
                       count(*) FILTER (WHERE status = 'FAILED') AS failed,
                       COALESCE(sum(size_bytes) FILTER (WHERE status = 'COMPLETED'), 0) AS bytes,
                       COALESCE(sum(cache_hits), 0) AS hits
                FROM images""").execute().map(rows -> {
                    Row r = rows.iterator().next();
                    return new Stats(r.getLong("images"), r.getLong("completed"), r.getLong("building"), r.getLong("failed"),
                            r.getLong("bytes"), r.getLong("hits"));
                });
    }

    /**
     * What a prune removes: finished images unused for {@code unusedDays} (0: none by age), and
     * beyond the {@code maxCount} most used (least hits, then least recently used, go first).
     */
    public Uni<List<ImageRow>> pruneCandidates(int unusedDays, int maxCount) {
        return pool.preparedQuery("""
                WITH ranked AS (
                    SELECT id, row_number() OVER (ORDER BY cache_hits DESC, COALESCE(last_used_at, created_at) DESC, id) AS rank,
                           COALESCE(last_used_at, created_at) AS used
                    FROM images WHERE status IN ('COMPLETED', 'FAILED'))
                """ + "SELECT " + COLUMNS + " FROM images WHERE id IN (SELECT id FROM ranked"
                + " WHERE ($2 > 0 AND rank > $2) OR ($1 > 0 AND used < now() - make_interval(days => $1)))")
                .execute(Tuple.of(unusedDays, maxCount)).flatMap(this::withDependencies);
    }

    private Uni<Optional<ImageRow>> one(String sql, Tuple args) {
        return pool.preparedQuery(sql).execute(args).flatMap(this::withDependencies)
                .map(rows -> rows.isEmpty() ? Optional.empty() : Optional.of(rows.get(0)));
    }

    private Uni<List<ImageRow>> withDependencies(RowSet<Row> rows) {
        List<Row> images = new ArrayList<>();
        rows.forEach(images::add);
        if (images.isEmpty()) {
            return Uni.createFrom().item(List.of());
        }
        String[] ids = images.stream().map(r -> r.getString("id")).toArray(String[]::new);
        return pool.preparedQuery("SELECT image_id, type, name, version FROM image_dependencies WHERE image_id = ANY($1)"
                + " ORDER BY image_id, array_position(ARRAY['system','apt','npm','pip'], type), name")
                .execute(Tuple.of(ids)).map(depRows -> {
                    Map<String, List<Dependency>> byImage = new HashMap<>();
                    depRows.forEach(d -> byImage.computeIfAbsent(d.getString("image_id"), k -> new ArrayList<>())
                            .add(new Dependency(d.getString("type"), d.getString("name"), d.getString("version"))));
                    return images.stream().map(r -> row(r, byImage.getOrDefault(r.getString("id"), List.of()))).toList();
                });
    }

    private static ImageRow row(Row r, List<Dependency> dependencies) {
        return new ImageRow(r.getString("id"), r.getString("dependency_hash"), r.getString("tag"), r.getString("reference"),
                r.getString("base_image"), r.getString("base_digest"), r.getLong("size_bytes"), r.getString("registry_digest"),
                r.getString("status"), r.getString("build_log"), r.getString("failure_reason"), r.getString("metadata"),
                r.getOffsetDateTime("created_at"), r.getOffsetDateTime("last_used_at"), r.getLong("cache_hits"),
                r.getOffsetDateTime("build_started_at"), r.getOffsetDateTime("build_finished_at"), dependencies);
    }
}
