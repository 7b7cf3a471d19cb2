package dev.reprise.replay.store;

import dev.reprise.cache.RedisCache;
import dev.reprise.cache.RedisCaches;
import dev.reprise.replay.record.Recording;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * The cache index: one row per cache key, pointing at its newest recording. An entry past its
 * expiry is never a hit (the evictor removes it and its object later).
 */
@ApplicationScoped
public class RecordingIndex {

    /** An index row. */
    public record Entry(String cacheKey, String tenantId, String buildId, String repository, String status, String objectKey,
            long bytes, long durationMs, OffsetDateTime createdAt, OffsetDateTime expiresAt, long accessCount,
            OffsetDateTime lastAccessAt) {

        Entry withReads(long count) {
            return new Entry(cacheKey, tenantId, buildId, repository, status, objectKey, bytes, durationMs, createdAt, expiresAt,
                    count, lastAccessAt);
        }
    }

    /** An entry taken out of the index, whose object is now to be deleted. */
    public record Removed(String cacheKey, String tenantId, String objectKey, String reason) {
    }

    private final Pool pool;
    private final RedisCache<Entry> cache;
    private final ReadCounter reads;

    public RecordingIndex(Pool pool, RedisCaches caches, ReadCounter reads) {
        this.pool = pool;
        this.cache = caches.cache("recording", Entry.class);
        this.reads = reads;
        // A written read count changes the row: the next lookup reloads it (a plain delete, not a
        // tombstone: counts are not worth bypassing the cache for).
        reads.onFlushed(keys -> io.smallrye.mutiny.Multi.createFrom().iterable(java.util.Set.copyOf(keys))
                .onItem().transformToUni(cache::evict).merge(8)
                .collect().last().subscribe().with(ignored -> { }, ignored -> { }));
    }

    /**
     * Inserts or replaces the key's entry: a newer recording of the same key wins (and is new:
     * its reads start from zero).
     *
     * @return the object key of the recording it replaced, when it replaced another object
     */
    public Uni<Optional<String>> upsert(Recording.Header h, String repository, String objectKey, long objectBytes,
            OffsetDateTime expiresAt) {
        return pool.withTransaction(tx -> tx.preparedQuery("SELECT object_key FROM recordings WHERE cache_key = $1 FOR UPDATE")
                .execute(Tuple.of(h.cacheKey()))
                .flatMap(old -> tx.preparedQuery("""
                                INSERT INTO recordings (cache_key, tenant_id, build_id, repository, commit_sha, tool, status,
                                                        object_key, bytes, duration_ms, expires_at)
                                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                                ON CONFLICT (cache_key) DO UPDATE SET tenant_id = excluded.tenant_id,
                                    build_id = excluded.build_id, repository = excluded.repository,
                                    commit_sha = excluded.commit_sha, tool = excluded.tool, status = excluded.status,
                                    object_key = excluded.object_key, bytes = excluded.bytes,
                                    duration_ms = excluded.duration_ms, created_at = now(), expires_at = excluded.expires_at,
                                    access_count = 0, last_access_at = NULL""")
                        .execute(Tuple.from(Arrays.asList(h.cacheKey(), orEmpty(h.tenantId()), h.buildId(),
                                orEmpty(repository), orEmpty(h.commitSha()), orEmpty(h.tool()), h.status(), objectKey,
                                objectBytes, h.durationMs(), expiresAt)))
                        .map(ignored -> {
                            String previous = old.size() == 0 ? null : old.iterator().next().getString("object_key");
                            return Optional.ofNullable(previous).filter(p -> !p.equals(objectKey));
                        })))
                .invoke(() -> reads.forget(h.cacheKey()))
                .call(() -> cache.invalidate(h.cacheKey()));
    }

    public Uni<Optional<Entry>> byBuildId(String buildId) {
        return pool.preparedQuery("SELECT * FROM recordings WHERE build_id = $1").execute(Tuple.of(buildId))
                .map(RecordingIndex::first);
    }

    /** The key's live (unexpired) entry, without counting a read. */
    public Uni<Optional<Entry>> byCacheKey(String cacheKey) {
        return pool.preparedQuery("SELECT * FROM recordings WHERE cache_key = $1 AND expires_at > now()")
                .execute(Tuple.of(cacheKey)).map(RecordingIndex::first);
    }

    /**
     * A cache hit: the key's live entry for this tenant (any tenant when null), read through the
     * Redis cache, its read counted ({@link ReadCounter}); {@code accessCount} includes this read.
     */
    public Uni<Optional<Entry>> hit(String cacheKey, String tenantId) {
        return cache.getOrLoad(cacheKey, () -> byCacheKey(cacheKey).map(found -> found.orElse(null)))
                .map(entry -> Optional.ofNullable(entry)
                        .filter(e -> tenantId == null || tenantId.equals(e.tenantId()))
                        .filter(e -> e.expiresAt().isAfter(OffsetDateTime.now()))
                        .map(e -> e.withReads(e.accessCount() + reads.read(cacheKey, e.buildId()))));
    }

    /**
     * Takes out up to {@code limit} entries the policy drops: expired ones, and ones not read for
     * {@code unreadFor} with fewer than {@code minReads} reads (popular entries stay).
     */
    public Uni<List<Removed>> evict(Duration unreadFor, long minReads, int limit) {
        return pool.preparedQuery("""
                        DELETE FROM recordings r USING (
                            SELECT cache_key FROM recordings
                            WHERE expires_at <= now()
                               OR (coalesce(last_access_at, created_at) < now() - make_interval(secs => $1)
                                   AND access_count < $2)
                            ORDER BY coalesce(last_access_at, created_at) LIMIT $3 FOR UPDATE SKIP LOCKED) old
                        WHERE r.cache_key = old.cache_key
                        RETURNING r.cache_key, r.tenant_id, r.object_key,
                                  CASE WHEN r.expires_at <= now() THEN 'expired' ELSE 'unused' END AS reason""")
                .execute(Tuple.of((double) unreadFor.toSeconds(), minReads, limit))
                .map(RecordingIndex::removed).flatMap(this::uncache);
    }

    /**
     * Takes out up to {@code limit} of the least valuable entries until the store's recordings fit
     * {@code budget} bytes: least build time saved per stored byte first ((reads + 1) × duration ÷
     * bytes), the longest unread first among equals. Nothing when the store already fits.
     */
    public Uni<List<Removed>> evictOverBudget(long budget, int limit) {
        return pool.preparedQuery("""
                        DELETE FROM recordings r USING (
                            SELECT cache_key, up_to FROM (
                                SELECT cache_key, bytes, sum(bytes) OVER () AS total,
                                       sum(bytes) OVER (ORDER BY (access_count + 1) * duration_ms::float8 / greatest(bytes, 1),
                                                                 coalesce(last_access_at, created_at), cache_key) AS up_to
                                FROM recordings) ranked
                            WHERE up_to - bytes < total - $1
                            ORDER BY up_to LIMIT $2) over
                        WHERE r.cache_key = over.cache_key
                        RETURNING r.cache_key, r.tenant_id, r.object_key, 'budget' AS reason""")
                .execute(Tuple.of(budget, limit))
                .map(RecordingIndex::removed).flatMap(this::uncache);
    }

    /** Takes out one key of a tenant (any tenant when null). */
    public Uni<List<Removed>> invalidateKey(String tenantId, String cacheKey) {
        return pool.preparedQuery("""
                        DELETE FROM recordings WHERE cache_key = $1 AND ($2::text IS NULL OR tenant_id = $2)
                        RETURNING cache_key, tenant_id, object_key, 'invalidated' AS reason""")
                .execute(Tuple.of(cacheKey, tenantId)).map(RecordingIndex::removed).flatMap(this::uncache);
    }

    /** Takes out up to {@code limit} recordings of any tenant (the operator's purge, batch by batch). */
    public Uni<List<Removed>> invalidateSome(int limit) {
        return pool.preparedQuery("""
                        DELETE FROM recordings r USING (SELECT cache_key FROM recordings LIMIT $1 FOR UPDATE SKIP LOCKED) x
                        WHERE r.cache_key = x.cache_key
                        RETURNING r.cache_key, r.tenant_id, r.object_key, 'invalidated' AS reason""")
                .execute(Tuple.of(limit)).map(RecordingIndex::removed).flatMap(this::uncache);
    }

    /** Takes out every recording of a tenant's repository (its normalized URL). */
    public Uni<List<Removed>> invalidateRepository(String tenantId, String repository) {
        return pool.preparedQuery("""
                        DELETE FROM recordings WHERE repository = $1 AND ($2::text IS NULL OR tenant_id = $2)
                        RETURNING cache_key, tenant_id, object_key, 'invalidated' AS reason""")
                .execute(Tuple.of(repository, tenantId)).map(RecordingIndex::removed).flatMap(this::uncache);
    }

    /** How many recordings and stored bytes (one tenant's, or all when null). */
    public Uni<long[]> totals(String tenantId) {
        return pool.preparedQuery("""
                        SELECT count(*) AS n, coalesce(sum(bytes), 0) AS bytes FROM recordings
                        WHERE $1::text IS NULL OR tenant_id = $1""")
                .execute(Tuple.of(tenantId))
                .map(rows -> {
                    Row r = rows.iterator().next();
                    return new long[] {r.getLong("n"), r.getLong("bytes")};
                });
    }

    /** The most read recordings (one tenant's, or all when null). */
    public Uni<List<Entry>> mostRead(String tenantId, int limit) {
        return pool.preparedQuery("""
                        SELECT * FROM recordings WHERE access_count > 0 AND ($1::text IS NULL OR tenant_id = $1)
                        ORDER BY access_count DESC, cache_key LIMIT $2""")
                .execute(Tuple.of(tenantId, limit))
                .map(rows -> {
                    List<Entry> entries = new ArrayList<>();
                    rows.forEach(r -> entries.add(toEntry(r)));
                    return entries;
                });
    }

    /**
     * Loads the {@code hottest} most read recordings' entries into the lookup cache in the background
     * (a few at a time), so the hot set is a cache hit from the first request after a start.
     *
     * @return the keys being warmed, most read first
     */
    public Uni<List<String>> warmHottest(int hottest) {
        return mostRead(null, hottest).map(entries -> {
            List<String> keys = entries.stream().map(Entry::cacheKey).toList();
            cache.warm(keys, key -> byCacheKey(key).map(found -> found.orElse(null)));
            return keys;
        });
    }

    private static Optional<Entry> first(RowSet<Row> rows) {
        return rows.size() == 0 ? Optional.empty() : Optional.of(toEntry(rows.iterator().next()));
    }

    /** Drops the removed entries' cached copies. */
    private Uni<List<Removed>> uncache(List<Removed> removed) {
        if (removed.isEmpty()) {
            return Uni.createFrom().item(removed);
        }
        return Uni.join().all(removed.stream().map(r -> cache.invalidate(r.cacheKey())).toList()).usingConcurrencyOf(16)
                .andCollectFailures().replaceWith(removed).onFailure().recoverWithItem(removed);
    }

    private static List<Removed> removed(RowSet<Row> rows) {
        List<Removed> removed = new ArrayList<>(rows.size());
        rows.forEach(r -> removed.add(new Removed(r.getString("cache_key"), r.getString("tenant_id"), r.getString("object_key"),
                r.getString("reason"))));
        return removed;
    }

    private static Entry toEntry(Row r) {
        return new Entry(r.getString("cache_key"), r.getString("tenant_id"), r.getString("build_id"), r.getString("repository"),
                r.getString("status"), r.getString("object_key"), r.getLong("bytes"), r.getLong("duration_ms"),
                r.getOffsetDateTime("created_at"), r.getOffsetDateTime("expires_at"), r.getLong("access_count"),
                r.getOffsetDateTime("last_access_at"));
    }

    private static String orEmpty(String value) {
        return value == null ? "" : value;
    }
}
