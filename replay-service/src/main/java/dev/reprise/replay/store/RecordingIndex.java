package dev.reprise.replay.store;

import dev.reprise.replay.record.Recording;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.OffsetDateTime;
import java.util.Arrays;
import java.util.Optional;

/** The cache index: one row per cache key, pointing at its newest recording. */
@ApplicationScoped
public class RecordingIndex {

    /** An index row. */
    public record Entry(String cacheKey, String tenantId, String buildId, String status, String objectKey, long bytes, long durationMs,
            OffsetDateTime createdAt, OffsetDateTime expiresAt) {
    }

    private final Pool pool;

    public RecordingIndex(Pool pool) {
        this.pool = pool;
    }

    /** Inserts or replaces the key's entry: a newer recording of the same key wins. */
    public Uni<Void> upsert(Recording.Header h, String objectKey, long objectBytes, OffsetDateTime expiresAt) {
        return pool.preparedQuery("""
                        INSERT INTO recordings (cache_key, tenant_id, build_id, repository, commit_sha, tool, status,
                                                object_key, bytes, duration_ms, expires_at)
                        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                        ON CONFLICT (cache_key) DO UPDATE SET tenant_id = excluded.tenant_id,
                            build_id = excluded.build_id, repository = excluded.repository,
                            commit_sha = excluded.commit_sha, tool = excluded.tool, status = excluded.status,
                            object_key = excluded.object_key, bytes = excluded.bytes,
                            duration_ms = excluded.duration_ms, created_at = now(), expires_at = excluded.expires_at""")
                .execute(Tuple.from(Arrays.asList(h.cacheKey(), orEmpty(h.tenantId()), h.buildId(),
                        orEmpty(h.repository()), orEmpty(h.commitSha()), orEmpty(h.tool()), h.status(), objectKey,
                        objectBytes, h.durationMs(), expiresAt)))
                .replaceWithVoid();
    }

    public Uni<Optional<Entry>> byBuildId(String buildId) {
        return pool.preparedQuery("SELECT * FROM recordings WHERE build_id = $1").execute(Tuple.of(buildId))
                .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(toEntry(rows.iterator().next())));
    }

    public Uni<Optional<Entry>> byCacheKey(String cacheKey) {
        return pool.preparedQuery("SELECT * FROM recordings WHERE cache_key = $1").execute(Tuple.of(cacheKey))
                .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(toEntry(rows.iterator().next())));
    }

    private static Entry toEntry(Row r) {
        return new Entry(r.getString("cache_key"), r.getString("tenant_id"), r.getString("build_id"), r.getString("status"),
                r.getString("object_key"), r.getLong("bytes"), r.getLong("duration_ms"),
                r.getOffsetDateTime("created_at"), r.getOffsetDateTime("expires_at"));
    }

    private static String orEmpty(String value) {
        return value == null ? "" : value;
    }
}
