package dev.reprise.artifact.store;

import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonObject;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import io.vertx.pgclient.PgException;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The CAS index in PostgreSQL: blobs (content, deduplicated across tenants) and the cache entries
 * that map a tenant's protocol keys to them. An entry is a hit only while it is live, unexpired and
 * its blob is live and not quarantined.
 */
@ApplicationScoped
public class ArtifactIndex {

    /** A live blob and the object holding its bytes. */
    public record Blob(String digest, long size, String objectKey) {
    }

    /** A hit: the entry and the blob it points at. */
    public record Hit(long entryId, String key, String digest, long size, String objectKey, JsonObject metadata,
            OffsetDateTime createdAt, String branch) {
    }

    /** What a save writes. {@code expiresAt} may be null (never expires). */
    public record EntryWrite(String tenantId, String protocol, String key, String version, String digest, long size,
            String repository, String branch, OffsetDateTime expiresAt, JsonObject metadata, Provenance provenance) {
    }

    /** Where an entry came from; every field optional. */
    public record Provenance(String repository, String commit, String branch, JsonObject toolchain, String buildId,
            Long durationMs, JsonObject dependencyDigests) {

        public boolean isEmpty() {
            return repository == null && commit == null && branch == null && toolchain == null && buildId == null
                    && durationMs == null && dependencyDigests == null;
        }
    }

    /** How a save ended. */
    public enum SaveOutcome {
        /** Saved; the blob was already stored (an uploaded object, if any, is redundant). */
        SAVED_EXISTING_BLOB,
        /** Saved with the uploaded object as the blob's bytes. */
        SAVED_NEW_BLOB,
        /** The blob is not stored (or was just collected): upload it and save again. */
        NEEDS_UPLOAD,
        /** An immutable entry with this key and version already exists. */
        CONFLICT
    }

    /** A save's result; {@code replacedObject} is an object no longer referenced (to delete). */
    public record Saved(SaveOutcome outcome, Long entryId, String replacedObject) {
    }

    /** A blob to collect: marked deleted, its object still to remove. */
    public record Doomed(String digest, String objectKey, long size) {
    }

    /** Live totals. */
    public record Totals(long entries, long bytes) {
    }

    private static final String HIT_COLUMNS = """
            e.id, e.cache_key, e.digest, e.size_bytes, b.object_key, e.metadata, e.created_at, e.branch
            FROM cache_entries e JOIN blobs b ON b.digest = e.digest
            WHERE e.deleted_at IS NULL AND (e.expires_at IS NULL OR e.expires_at > now())
              AND b.deleted_at IS NULL AND b.quarantined_at IS NULL
            """;

    private final Pool pool;

    public ArtifactIndex(Pool pool) {
        this.pool = pool;
    }

    /**
     * Points an entry at a blob, in one transaction: the entry becomes visible together with its
     * blob row, never before. With {@code uploadedObject} null the blob must already be live;
     * otherwise the uploaded object becomes the blob's bytes unless a live copy exists.
     * {@code immutable} entries are never replaced (actions/cache); the others replace the key's
     * previous entry.
     */
    public Uni<Saved> save(EntryWrite w, String uploadedObject, boolean immutable) {
        return pool.withTransaction(tx -> tx.preparedQuery("""
                        SELECT object_key, deleted_at IS NULL AND quarantined_at IS NULL AS live FROM blobs
                        WHERE digest = $1 FOR UPDATE""")
                .execute(Tuple.of(w.digest()))
                .flatMap(rows -> {
                    Optional<Row> blob = first(rows);
                    boolean live = blob.isPresent() && blob.get().getBoolean("live");
                    if (!live && uploadedObject == null) {
                        return Uni.createFrom().item(new Saved(SaveOutcome.NEEDS_UPLOAD, null, null));
                    }
                    Uni<String> blobWritten;
                    SaveOutcome outcome;
                    if (live) {
                        outcome = SaveOutcome.SAVED_EXISTING_BLOB;
                        // Touching the row tells a collector that saw it unreferenced to keep it.
                        blobWritten = tx.preparedQuery("UPDATE blobs SET last_access_at = now() WHERE digest = $1")
                                .execute(Tuple.of(w.digest())).replaceWith((String) null);
                    } else {
                        outcome = SaveOutcome.SAVED_NEW_BLOB;
                        String previous = blob.map(r -> r.getString("object_key")).orElse(null);
                        blobWritten = tx.preparedQuery("""
                                        INSERT INTO blobs (digest, size_bytes, object_key) VALUES ($1, $2, $3)
                                        ON CONFLICT (digest) DO UPDATE SET size_bytes = excluded.size_bytes,
                                            object_key = excluded.object_key, created_at = now(), last_access_at = now(),
                                            deleted_at = NULL, verified_at = NULL, quarantined_at = NULL, quarantine_reason = NULL""")
                                .execute(Tuple.of(w.digest(), w.size(), uploadedObject)).replaceWith(previous);
                    }
                    return blobWritten.flatMap(replaced -> writeEntry(tx, w, immutable)
                            .map(id -> id == null ? new Saved(SaveOutcome.CONFLICT, null, replaced) : new Saved(outcome, id, replaced)));
                }))
                .onFailure(ArtifactIndex::isUniqueViolation).recoverWithItem(() -> new Saved(
                        immutable ? SaveOutcome.CONFLICT : SaveOutcome.SAVED_EXISTING_BLOB, null, null));
    }

    /** @return the new entry's id, or null when an immutable entry with the key exists */
    private Uni<Long> writeEntry(SqlConnection tx, EntryWrite w, boolean immutable) {
        Tuple key = Tuple.of(w.tenantId(), w.protocol(), w.key(), w.version());
        Uni<Boolean> cleared = immutable
                ? tx.preparedQuery("""
                        SELECT 1 FROM cache_entries WHERE tenant_id = $1 AND protocol = $2 AND cache_key = $3 AND version = $4
                          AND deleted_at IS NULL AND (expires_at IS NULL OR expires_at > now())""")
                        .execute(key).map(rows -> rows.size() == 0)
                : Uni.createFrom().item(true);
        return cleared.flatMap(ok -> {
            if (!ok) {
                return Uni.createFrom().nullItem();
            }
            return tx.preparedQuery("""
                            UPDATE cache_entries SET deleted_at = now(), deleted_reason = 'replaced'
                            WHERE tenant_id = $1 AND protocol = $2 AND cache_key = $3 AND version = $4 AND deleted_at IS NULL""")
                    .execute(key)
                    .flatMap(ignored -> tx.preparedQuery("""
                                    INSERT INTO cache_entries (tenant_id, protocol, cache_key, version, digest, size_bytes,
                                                               repository, branch, expires_at, metadata)
                                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id""")
                            .execute(Tuple.from(Arrays.asList(w.tenantId(), w.protocol(), w.key(), w.version(), w.digest(),
                                    w.size(), w.repository(), w.branch(), w.expiresAt(),
                                    w.metadata() == null ? new JsonObject() : w.metadata()))))
                    .map(rows -> rows.iterator().next().getLong("id"))
                    .flatMap(id -> w.provenance() == null || w.provenance().isEmpty()
                            ? Uni.createFrom().item(id)
                            : tx.preparedQuery("""
                                            INSERT INTO provenance (entry_id, repository, commit_sha, branch, toolchain, build_id,
                                                                    duration_ms, dependency_digests)
                                            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)""")
                                    .execute(Tuple.from(Arrays.asList(id, w.provenance().repository(), w.provenance().commit(),
                                            w.provenance().branch(), w.provenance().toolchain(), w.provenance().buildId(),
                                            w.provenance().durationMs(), w.provenance().dependencyDigests())))
                                    .replaceWith(id));
        });
    }

    /** The live entry for exactly this key. */
    public Uni<Optional<Hit>> lookup(String tenantId, String protocol, String key, String version) {
        return pool.preparedQuery("SELECT " + HIT_COLUMNS + """
                         AND e.tenant_id = $1 AND e.protocol = $2 AND e.cache_key = $3 AND e.version = $4""")
                .execute(Tuple.of(tenantId, protocol, key, version))
                .map(rows -> first(rows).map(ArtifactIndex::hit));
    }

    /** A tenant's live entry by id. */
    public Uni<Optional<Hit>> byId(String tenantId, String protocol, long id) {
        return pool.preparedQuery("SELECT " + HIT_COLUMNS + " AND e.tenant_id = $1 AND e.protocol = $2 AND e.id = $3")
                .execute(Tuple.of(tenantId, protocol, id))
                .map(rows -> first(rows).map(ArtifactIndex::hit));
    }

    /** Live entries in the store. */
    public Uni<Long> entryCount() {
        return pool.query("SELECT count(*) AS n FROM cache_entries WHERE deleted_at IS NULL").execute()
                .map(rows -> rows.iterator().next().getLong("n"));
    }

    /**
     * The best entry for {@code candidate} in one branch scope: the exact key, else the most recent
     * entry whose key starts with it.
     */
    public Uni<Optional<Hit>> exactOrPrefix(String tenantId, String protocol, String candidate, String version, String branch) {
        return pool.preparedQuery("SELECT " + HIT_COLUMNS + """
                         AND e.tenant_id = $1 AND e.protocol = $2 AND e.version = $3 AND e.branch = $4
                         AND (e.cache_key = $5 OR e.cache_key LIKE $6 ESCAPE '\\')
                        ORDER BY (e.cache_key = $5) DESC, e.created_at DESC, e.id DESC LIMIT 1""")
                .execute(Tuple.from(List.of(tenantId, protocol, version, branch, candidate, likePrefix(candidate))))
                .map(rows -> first(rows).map(ArtifactIndex::hit));
    }

    /** Records hits: entries' and blobs' last access, for LRU pruning. */
    public Uni<Void> touch(List<Long> entryIds) {
        if (entryIds.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        Long[] ids = entryIds.toArray(Long[]::new);
        return pool.preparedQuery("UPDATE cache_entries SET last_access_at = now() WHERE id = ANY($1)")
                .execute(Tuple.of(ids))
                .flatMap(ignored -> pool.preparedQuery("""
                                UPDATE blobs SET last_access_at = now()
                                WHERE digest IN (SELECT digest FROM cache_entries WHERE id = ANY($1))""")
                        .execute(Tuple.of(ids)))
                .replaceWithVoid();
    }

    /** Soft-deletes a tenant's entries; {@code protocol} null means every protocol. @return entries hidden */
    public Uni<Integer> invalidate(String tenantId, String protocol, Scope scope, String value, String reason) {
        String condition = switch (scope) {
            case KEY -> "cache_key = $3";
            case PREFIX -> "cache_key LIKE $3 ESCAPE '\\'";
            case REPOSITORY -> "repository = $3";
        };
        String argument = scope == Scope.PREFIX ? likePrefix(value) : value;
        return pool.preparedQuery("UPDATE cache_entries SET deleted_at = now(), deleted_reason = $4 "
                        + "WHERE tenant_id = $1 AND ($2::text IS NULL OR protocol = $2) AND deleted_at IS NULL AND " + condition)
                .execute(Tuple.from(Arrays.asList(tenantId, protocol, argument, reason)))
                .map(RowSet::rowCount);
    }

    /** What {@link #invalidate} matches on. */
    public enum Scope {
        KEY, PREFIX, REPOSITORY
    }

    /** Soft-deletes expired entries. @return the digests they pointed at */
    public Uni<List<String>> expire() {
        return pool.preparedQuery("""
                        UPDATE cache_entries SET deleted_at = now(), deleted_reason = 'expired'
                        WHERE deleted_at IS NULL AND expires_at <= now() RETURNING digest""")
                .execute().map(ArtifactIndex::digests);
    }

    /** The least recently used live entries, oldest first. */
    public Uni<List<Long>> leastRecentlyUsed(int limit) {
        return pool.preparedQuery("""
                        SELECT id FROM cache_entries WHERE deleted_at IS NULL ORDER BY last_access_at, id LIMIT $1""")
                .execute(Tuple.of(limit))
                .map(rows -> {
                    List<Long> ids = new ArrayList<>();
                    rows.forEach(r -> ids.add(r.getLong("id")));
                    return ids;
                });
    }

    /** Soft-deletes one entry. @return its digest, empty when it was already gone */
    public Uni<Optional<String>> delete(long entryId, String reason) {
        return pool.preparedQuery("""
                        UPDATE cache_entries SET deleted_at = now(), deleted_reason = $2
                        WHERE id = $1 AND deleted_at IS NULL RETURNING digest""")
                .execute(Tuple.of(entryId, reason))
                .map(rows -> first(rows).map(r -> r.getString("digest")));
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
                    Optional<Row> blob = first(rows);
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
                                .execute(Tuple.of(digests(rows).toArray(String[]::new)))
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

    /** Purges soft-deleted entry rows older than {@code keep}. */
    public Uni<Integer> purgeDeletedEntries(Duration keep) {
        return pool.preparedQuery("DELETE FROM cache_entries WHERE deleted_at < now() - make_interval(secs => $1)")
                .execute(Tuple.of((double) keep.toSeconds())).map(RowSet::rowCount);
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

    /** A tenant's live entries: count and bytes (each entry counted in full, as its quota sees it). */
    public Uni<Totals> tenantTotals(String tenantId) {
        return pool.preparedQuery("""
                        SELECT count(*) AS n, coalesce(sum(size_bytes), 0) AS bytes FROM cache_entries
                        WHERE tenant_id = $1 AND deleted_at IS NULL""")
                .execute(Tuple.of(tenantId)).map(ArtifactIndex::totals);
    }

    /** A tenant's entries removed within the kept window ({@code keep-deleted-entries}), by reason. */
    public Uni<java.util.Map<String, Long>> removals(String tenantId) {
        return pool.preparedQuery("SELECT deleted_reason, count(*) AS n FROM cache_entries"
                        + " WHERE tenant_id = $1 AND deleted_at IS NOT NULL GROUP BY deleted_reason")
                .execute(Tuple.of(tenantId))
                .map(rows -> {
                    java.util.Map<String, Long> removals = new java.util.TreeMap<>();
                    rows.forEach(r -> removals.put(String.valueOf(r.getString("deleted_reason")), r.getLong("n")));
                    return removals;
                });
    }

    /** One live entry with its provenance, for the admin API. */
    public Uni<Optional<JsonObject>> describe(String tenantId, String protocol, String key, String version) {
        return pool.preparedQuery("""
                        SELECT e.id, e.protocol, e.cache_key, e.version, e.digest, e.size_bytes, e.repository, e.branch,
                               e.created_at, e.last_access_at, e.expires_at, e.metadata,
                               b.verified_at, b.quarantined_at, b.quarantine_reason,
                               p.repository AS p_repository, p.commit_sha, p.branch AS p_branch, p.toolchain, p.build_id,
                               p.duration_ms, p.dependency_digests
                        FROM cache_entries e JOIN blobs b ON b.digest = e.digest LEFT JOIN provenance p ON p.entry_id = e.id
                        WHERE e.tenant_id = $1 AND e.protocol = $2 AND e.cache_key = $3 AND e.version = $4 AND e.deleted_at IS NULL""")
                .execute(Tuple.of(tenantId, protocol, key, version))
                .map(rows -> first(rows).map(r -> {
                    JsonObject provenance = new JsonObject().put("repository", r.getString("p_repository"))
                            .put("commit", r.getString("commit_sha")).put("branch", r.getString("p_branch"))
                            .put("toolchain", r.getValue("toolchain")).put("buildId", r.getString("build_id"))
                            .put("durationMs", r.getLong("duration_ms")).put("dependencyDigests", r.getValue("dependency_digests"));
                    return new JsonObject().put("id", r.getLong("id")).put("protocol", r.getString("protocol"))
                            .put("key", r.getString("cache_key")).put("version", r.getString("version"))
                            .put("digest", r.getString("digest")).put("sizeBytes", r.getLong("size_bytes"))
                            .put("repository", r.getString("repository")).put("branch", r.getString("branch"))
                            .put("createdAt", str(r.getOffsetDateTime("created_at")))
                            .put("lastAccessAt", str(r.getOffsetDateTime("last_access_at")))
                            .put("expiresAt", str(r.getOffsetDateTime("expires_at")))
                            .put("metadata", r.getValue("metadata"))
                            .put("verifiedAt", str(r.getOffsetDateTime("verified_at")))
                            .put("quarantined", r.getOffsetDateTime("quarantined_at") != null)
                            .put("quarantineReason", r.getString("quarantine_reason"))
                            .put("provenance", provenance);
                }));
    }

    private static String str(OffsetDateTime time) {
        return time == null ? null : time.toString();
    }

    private static Hit hit(Row r) {
        Object metadata = r.getValue("metadata");
        return new Hit(r.getLong("id"), r.getString("cache_key"), r.getString("digest"), r.getLong("size_bytes"),
                r.getString("object_key"), metadata instanceof JsonObject json ? json : new JsonObject(),
                r.getOffsetDateTime("created_at"), r.getString("branch"));
    }

    private static Totals totals(RowSet<Row> rows) {
        Row r = rows.iterator().next();
        return new Totals(r.getLong("n"), r.getLong("bytes"));
    }

    private static List<String> digests(RowSet<Row> rows) {
        List<String> digests = new ArrayList<>();
        rows.forEach(r -> digests.add(r.getString("digest")));
        return digests;
    }

    private static Optional<Row> first(RowSet<Row> rows) {
        return rows.size() == 0 ? Optional.empty() : Optional.of(rows.iterator().next());
    }

    /** {@code value} as a LIKE pattern matching every string that starts with it. */
    static String likePrefix(String value) {
        return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%";
    }

    private static boolean isUniqueViolation(Throwable failure) {
        return failure instanceof PgException pg && "23505".equals(pg.getSqlState());
    }
}
