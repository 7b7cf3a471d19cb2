package dev.reprise.gateway.store;

import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonObject;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Build requests and their state in the gateway's schema, always scoped by tenant. */
@ApplicationScoped
public class BuildStore {

    /** One build_requests row. */
    public record BuildRow(String id, String tenantId, String cacheKey, String repository, String ref, String commit,
            String tool, String status, boolean cached, OffsetDateTime requestedAt, OffsetDateTime startedAt,
            OffsetDateTime finishedAt, Long durationMs, Integer exitCode, String reason, String command, Long hitAgeSeconds,
            String hitLabel, Boolean hitStale, String refreshBuildId) {

        public boolean active() {
            return "QUEUED".equals(status) || "RUNNING".equals(status);
        }
    }

    /** A new build to record. */
    public record NewBuild(String id, String tenantId, String cacheKey, String repository, String ref, String commit,
            String tool, String command, Map<String, String> env, boolean fresh, Integer timeoutSeconds) {
    }

    /** What a build's cache key was made of, as its row keeps it (the versions are the gateway's settings). */
    public record KeyRow(String id, String cacheKey, String repository, String commit, String tool, String command,
            Map<String, String> env, boolean fresh, String status, boolean cached, OffsetDateTime requestedAt) {
    }

    /** The row a request ended up with, and whether it attached to an active build. */
    public record Admission(BuildRow build, boolean coalesced) {
    }

    private static final String COLUMNS = """
            id, tenant_id, cache_key, repository, ref, commit_sha, tool, status, cached, requested_at, started_at,
            finished_at, duration_ms, exit_code, reason, command, hit_age_seconds, hit_label, hit_stale, refresh_build_id""";

    private final Pool pool;

    public BuildStore(Pool pool) {
        this.pool = pool;
    }

    /**
     * Inserts the build as QUEUED, unless an identical build (tenant and cache key) is queued or
     * running: then that one is returned, coalesced. The partial unique index decides races.
     */
    public Uni<Admission> admit(NewBuild b) {
        return pool.preparedQuery("INSERT INTO build_requests (id, tenant_id, cache_key, repository, ref, commit_sha, tool,"
                        + " status, command, env, fresh, timeout_seconds) VALUES ($1, $2, $3, $4, $5, $6, $7, 'QUEUED', $8,"
                        + " $9, $10, $11) ON CONFLICT (tenant_id, cache_key) WHERE status IN ('QUEUED', 'RUNNING')"
                        + " DO NOTHING RETURNING " + COLUMNS)
                .execute(Tuple.from(Arrays.asList(b.id(), b.tenantId(), b.cacheKey(), b.repository(), b.ref(), b.commit(),
                        b.tool(), b.command(), new JsonObject(Map.copyOf(b.env())), b.fresh(),
                        b.timeoutSeconds())))
                .flatMap(rows -> rows.size() == 1
                        ? Uni.createFrom().item(new Admission(toRow(rows.iterator().next()), false))
                        : activeByKey(b.tenantId(), b.cacheKey()).flatMap(existing -> existing
                                .map(row -> Uni.createFrom().item(new Admission(row, true)))
                                // the active build finished between our insert and select: try again
                                .orElseGet(() -> admit(b))));
    }

    /** Records a request answered from cache: finished at once, with the recording's outcome. */
    public Uni<BuildRow> recordHit(NewBuild b, String status, long durationMs, long ageSeconds, String label, boolean stale,
            String refreshBuildId) {
        return pool.preparedQuery("INSERT INTO build_requests (id, tenant_id, cache_key, repository, ref, commit_sha, tool,"
                        + " status, cached, command, env, fresh, started_at, finished_at, duration_ms, hit_age_seconds, hit_label,"
                        + " hit_stale, refresh_build_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, true, $9, $10, false, now(), now(),"
                        + " $11, $12, $13, $14, $15) RETURNING " + COLUMNS)
                .execute(Tuple.from(Arrays.asList(b.id(), b.tenantId(), b.cacheKey(), b.repository(), b.ref(), b.commit(),
                        b.tool(), status, b.command(), new JsonObject(Map.copyOf(b.env())), durationMs, ageSeconds, label,
                        stale, refreshBuildId)))
                .map(rows -> toRow(rows.iterator().next()));
    }

    public Uni<Optional<BuildRow>> find(String tenantId, String id) {
        return pool.preparedQuery("SELECT " + COLUMNS + " FROM build_requests WHERE tenant_id = $1 AND id = $2")
                .execute(Tuple.of(tenantId, id)).map(BuildStore::first);
    }

    /** Newest first; {@code repository} and {@code status} filter when not null. */
    public Uni<List<BuildRow>> list(String tenantId, String repository, String status, int page, int size) {
        return pool.preparedQuery("SELECT " + COLUMNS + " FROM build_requests WHERE tenant_id = $1"
                        + " AND ($2::text IS NULL OR repository = $2) AND ($3::text IS NULL OR status = $3)"
                        + " ORDER BY requested_at DESC, id LIMIT $4 OFFSET $5")
                .execute(Tuple.of(tenantId, repository, status, size, page * size))
                .map(rows -> {
                    List<BuildRow> result = new ArrayList<>();
                    rows.forEach(r -> result.add(toRow(r)));
                    return result;
                });
    }

    private static final String KEY_COLUMNS = "id, cache_key, repository, commit_sha, tool, command, env, fresh, status, cached, requested_at";

    /** A tenant's build, with its key's inputs. */
    public Uni<Optional<KeyRow>> keyRow(String tenantId, String id) {
        return pool.preparedQuery("SELECT " + KEY_COLUMNS + " FROM build_requests WHERE tenant_id = $1 AND id = $2")
                .execute(Tuple.of(tenantId, id))
                .map(rows -> rows.size() == 0 ? Optional.<KeyRow>empty() : Optional.of(toKeyRow(rows.iterator().next())));
    }

    /** The tenant's latest build of the repository requested before {@code before} (another build than {@code id}). */
    public Uni<Optional<KeyRow>> previousOf(String tenantId, String repository, OffsetDateTime before, String id) {
        return pool.preparedQuery("SELECT " + KEY_COLUMNS + " FROM build_requests WHERE tenant_id = $1 AND repository = $2"
                        + " AND requested_at <= $3 AND id <> $4 ORDER BY requested_at DESC, id LIMIT 1")
                .execute(Tuple.of(tenantId, repository, before, id))
                .map(rows -> rows.size() == 0 ? Optional.<KeyRow>empty() : Optional.of(toKeyRow(rows.iterator().next())));
    }

    private static KeyRow toKeyRow(Row r) {
        JsonObject env = r.getJsonObject("env");
        Map<String, String> vars = new java.util.TreeMap<>();
        if (env != null) {
            env.forEach(e -> vars.put(e.getKey(), e.getValue() == null ? null : String.valueOf(e.getValue())));
        }
        return new KeyRow(r.getString("id"), r.getString("cache_key"), r.getString("repository"), r.getString("commit_sha"),
                r.getString("tool"), r.getString("command"), vars, Boolean.TRUE.equals(r.getBoolean("fresh")), r.getString("status"),
                Boolean.TRUE.equals(r.getBoolean("cached")), r.getOffsetDateTime("requested_at"));
    }

    /** Applies BuildStarted: only a queued build becomes running (events may be redelivered). */
    public Uni<Void> markStarted(String id, String runnerId, OffsetDateTime startedAt) {
        return pool.preparedQuery("UPDATE build_requests SET status = 'RUNNING', runner_id = $2, started_at = $3,"
                        + " updated_at = now() WHERE id = $1 AND status = 'QUEUED'")
                .execute(Tuple.of(id, runnerId, startedAt)).replaceWithVoid();
    }

    /** Applies BuildCompleted, or a failure to queue; a final status is never overwritten. */
    public Uni<Void> markFinished(String id, String status, Integer exitCode, Long durationMs, String reason) {
        return pool.preparedQuery("UPDATE build_requests SET status = $2, exit_code = $3, duration_ms = $4, reason = $5,"
                        + " finished_at = now(), updated_at = now() WHERE id = $1 AND status IN ('QUEUED', 'RUNNING')")
                .execute(Tuple.from(Arrays.asList(id, status, exitCode, durationMs, reason)))
                .replaceWithVoid();
    }

    private Uni<Optional<BuildRow>> activeByKey(String tenantId, String cacheKey) {
        return pool.preparedQuery("SELECT " + COLUMNS + " FROM build_requests WHERE tenant_id = $1 AND cache_key = $2"
                        + " AND status IN ('QUEUED', 'RUNNING')")
                .execute(Tuple.of(tenantId, cacheKey)).map(BuildStore::first);
    }

    private static Optional<BuildRow> first(RowSet<Row> rows) {
        return rows.size() == 0 ? Optional.empty() : Optional.of(toRow(rows.iterator().next()));
    }

    private static BuildRow toRow(Row r) {
        return new BuildRow(r.getString("id"), r.getString("tenant_id"), r.getString("cache_key"), r.getString("repository"),
                r.getString("ref"), r.getString("commit_sha"), r.getString("tool"), r.getString("status"),
                r.getBoolean("cached"), r.getOffsetDateTime("requested_at"), r.getOffsetDateTime("started_at"),
                r.getOffsetDateTime("finished_at"), r.getLong("duration_ms"), r.getInteger("exit_code"),
                r.getString("reason"), r.getString("command"), r.getLong("hit_age_seconds"), r.getString("hit_label"),
                r.getBoolean("hit_stale"), r.getString("refresh_build_id"));
    }
}
