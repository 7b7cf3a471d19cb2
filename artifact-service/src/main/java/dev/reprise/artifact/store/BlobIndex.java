package dev.reprise.artifact.store;

import dev.reprise.artifact.store.ArtifactIndex.Totals;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The blobs' lifecycle in the CAS index: which are live, which object holds each, collecting the unreferenced
 * ones (marked, then their objects removed), quarantine and re-verification, and the store's totals.
 */
@ApplicationScoped
public class BlobIndex {

    private final Pool pool;

    public BlobIndex(Pool pool) {
        this.pool = pool;
    }

    /** A live blob and the object holding its bytes. */
    public record Blob(String digest, long size, String objectKey) {
    }

    /** A blob to collect: marked deleted, its object still to remove. */
    public record Doomed(String digest, String objectKey, long size) {
    }

    /** Whether the blob row of {@code digest} names {@code objectKey} as its bytes (then the object must stay). */
    public Uni<Boolean> holdsObject(String digest, String objectKey) {
        return pool.preparedQuery("SELECT 1 FROM blobs WHERE digest = $1 AND object_key = $2")
                .execute(Tuple.of(digest, objectKey)).map(rows -> rows.size() > 0);
    }

    /** Whether any blob row (live, quarantined or being collected) still names a blob in {@code pack}. */
    public Uni<Boolean> packReferenced(String pack) {
        // Members are named pack#…: every key from "pack#" up to (not including) "pack$", in byte order.
        return pool.preparedQuery("SELECT 1 FROM blobs WHERE object_key COLLATE \"C\" >= $1 AND object_key COLLATE \"C\" < $2 LIMIT 1")
                .execute(Tuple.of(pack + "#", pack + "$")).map(rows -> rows.size() > 0);
    }

    /** Which of {@code digests} are stored and servable. */
    public Uni<Set<String>> liveDigests(Collection<String> digests) {
        return pool.preparedQuery("""
                        SELECT digest FROM blobs WHERE digest = ANY($1) AND deleted_at IS NULL AND quarantined_at IS NULL""")
                .execute(Tuple.of(digests.toArray(String[]::new)))
                .map(rows -> {
                    Set<String> live = new HashSet<>();
                    rows.forEach(r -> live.add(r.getString("digest")));
                    return live;
                });
    }

    /**
     * Marks a blob deleted when no live entry points at it and it was last used before
     * {@code grace} ago. The row lock, then a fresh snapshot, make this safe against a concurrent
     * save: a save holds the lock while it adds its entry and touches the row.
     *
     * @return the blob now doomed, empty when it stays
     */
    public Uni<Optional<Doomed>> markIfUnreferenced(String digest, Duration grace) {
        return pool.withTransaction(tx -> tx.preparedQuery("""
                        SELECT object_key, size_bytes, last_access_at < now() - make_interval(secs => $2) AS old FROM blobs
                        WHERE digest = $1 AND deleted_at IS NULL FOR UPDATE""")
                .execute(Tuple.of(digest, (double) grace.toMillis() / 1000))
                .flatMap(rows -> {
                    Optional<Row> blob = ArtifactIndex.first(rows);
                    if (blob.isEmpty() || !blob.get().getBoolean("old")) {
                        return Uni.createFrom().item(Optional.<Doomed>empty());
                    }
                    Doomed doomed = new Doomed(digest, blob.get().getString("object_key"), blob.get().getLong("size_bytes"));
                    return tx.preparedQuery("SELECT 1 FROM cache_entries WHERE digest = $1 AND deleted_at IS NULL LIMIT 1")
                            .execute(Tuple.of(digest))
                            .flatMap(refs -> refs.size() > 0
                                    ? Uni.createFrom().item(Optional.<Doomed>empty())
                                    : tx.preparedQuery("UPDATE blobs SET deleted_at = now() WHERE digest = $1")
                                            .execute(Tuple.of(digest)).replaceWith(Optional.of(doomed)));
                }));
    }

    /**
     * Marks up to {@code limit} blobs deleted that no live entry points at and that were unused
     * for {@code grace}, least recently used first. Like {@link #markIfUnreferenced}, the rows are
     * locked first (skipping any a save holds) and re-checked in a fresh snapshot, so a save that
     * added an entry meanwhile keeps its blob.
     *
     * @return the blobs now doomed
     */
    public Uni<List<Doomed>> markUnreferenced(int limit, Duration grace) {
        return pool.withTransaction(tx -> tx.preparedQuery("""
                        SELECT b.digest FROM blobs b WHERE b.deleted_at IS NULL
                          AND b.last_access_at < now() - make_interval(secs => $2)
                          AND NOT EXISTS (SELECT 1 FROM cache_entries e WHERE e.digest = b.digest AND e.deleted_at IS NULL)
                        ORDER BY b.last_access_at LIMIT $1 FOR UPDATE OF b SKIP LOCKED""")
                .execute(Tuple.of(limit, (double) grace.toMillis() / 1000))
                .flatMap(rows -> rows.size() == 0 ? Uni.createFrom().item(List.<Doomed>of())
                        : tx.preparedQuery("""
                                        UPDATE blobs b SET deleted_at = now() WHERE b.digest = ANY($1)
                                          AND NOT EXISTS (SELECT 1 FROM cache_entries e WHERE e.digest = b.digest AND e.deleted_at IS NULL)
                                        RETURNING b.digest, b.object_key, b.size_bytes""")
                                .execute(Tuple.of(ArtifactIndex.digests(rows).toArray(String[]::new)))
                                .map(marked -> {
                                    List<Doomed> doomed = new ArrayList<>();
                                    marked.forEach(r -> doomed.add(new Doomed(r.getString("digest"), r.getString("object_key"),
                                            r.getLong("size_bytes"))));
                                    return doomed;
                                })));
    }

    /** Blobs marked deleted whose objects are still to remove. */
    public Uni<List<Doomed>> doomed(int limit) {
        return pool.preparedQuery("SELECT digest, object_key, size_bytes FROM blobs WHERE deleted_at IS NOT NULL LIMIT $1")
                .execute(Tuple.of(limit))
                .map(rows -> {
                    List<Doomed> doomed = new ArrayList<>();
                    rows.forEach(r -> doomed.add(new Doomed(r.getString("digest"), r.getString("object_key"), r.getLong("size_bytes"))));
                    return doomed;
                });
    }

    /** Forgets a collected blob, unless a new upload revived it meanwhile. */
    public Uni<Void> forget(Doomed blob) {
        return pool.preparedQuery("DELETE FROM blobs WHERE digest = $1 AND object_key = $2 AND deleted_at IS NOT NULL")
                .execute(Tuple.of(blob.digest(), blob.objectKey())).replaceWithVoid();
    }

    /** Takes a blob out of service: its entries stop being hits. @return true when this call quarantined it */
    public Uni<Boolean> quarantine(String digest, String objectKey, String reason) {
        return pool.preparedQuery("""
                        UPDATE blobs SET quarantined_at = now(), quarantine_reason = $3
                        WHERE digest = $1 AND object_key = $2 AND quarantined_at IS NULL""")
                .execute(Tuple.of(digest, objectKey, reason)).map(rows -> rows.rowCount() > 0);
    }

    /** Live blobs least recently verified first. */
    public Uni<List<Blob>> toVerify(int limit) {
        return pool.preparedQuery("""
                        SELECT digest, size_bytes, object_key FROM blobs WHERE deleted_at IS NULL AND quarantined_at IS NULL
                        ORDER BY verified_at NULLS FIRST, created_at LIMIT $1""")
                .execute(Tuple.of(limit))
                .map(rows -> {
                    List<Blob> blobs = new ArrayList<>();
                    rows.forEach(r -> blobs.add(new Blob(r.getString("digest"), r.getLong("size_bytes"), r.getString("object_key"))));
                    return blobs;
                });
    }

    public Uni<Void> markVerified(String digest, String objectKey) {
        return pool.preparedQuery("UPDATE blobs SET verified_at = now() WHERE digest = $1 AND object_key = $2")
                .execute(Tuple.of(digest, objectKey)).replaceWithVoid();
    }

    /** The store's live blobs: count and bytes (deduplicated: what S3 holds). */
    public Uni<Totals> storeTotals() {
        return pool.query("SELECT count(*) AS n, coalesce(sum(size_bytes), 0) AS bytes FROM blobs WHERE deleted_at IS NULL")
                .execute().map(ArtifactIndex::totals);
    }
}
