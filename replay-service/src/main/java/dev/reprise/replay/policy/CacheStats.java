package dev.reprise.replay.policy;

import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.math.BigDecimal;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.jboss.logging.Logger;

/**
 * What the cache did: Prometheus counters at once (per process), and per-tenant hourly rows in
 * PostgreSQL (shared by every instance, kept across restarts) for the admin API. Counts gather
 * in memory and are written every few seconds, so a hit costs no extra write; a crash loses at
 * most those seconds of statistics, never any cached data.
 */
@ApplicationScoped
public class CacheStats {

    private static final Logger LOG = Logger.getLogger(CacheStats.class);

    /** What is counted; each is a column of {@code cache_stats}. */
    public enum Kind {
        HIT("hits"), MISS("misses"), STALE_HIT("stale_hits"), REPLAY("replays"), REPLAY_ERROR("replay_errors"),
        EVICTION("evictions"), INVALIDATION("invalidations"), SAVED_MS("saved_ms");

        final String column;

        Kind(String column) {
            this.column = column;
        }
    }

    /** One hour of one tenant's cache. */
    public record Hour(OffsetDateTime hour, long hits, long misses, long staleHits, long replays, long replayErrors,
            long evictions, long invalidations, long savedMs) {

        public double hitRate() {
            return hits + misses == 0 ? 0 : (double) hits / (hits + misses);
        }
    }

    private record Counter(String tenantId, Kind kind) {
    }

    private final Map<Counter, LongAdder> pending = new ConcurrentHashMap<>();
    private final Pool pool;
    private final MeterRegistry metrics;
    private final CachePolicy policy;

    public CacheStats(Pool pool, MeterRegistry metrics, CachePolicy policy) {
        this.pool = pool;
        this.metrics = metrics;
        this.policy = policy;
        // Registered at zero, so dashboards and alerts see a series before the first event.
        for (String result : new String[] {"hit", "miss", "stale"}) {
            metrics.counter("reprise.cache.requests", "cache", "recording", "result", result);
        }
        metrics.counter("reprise.cache.saved.seconds", "cache", "recording");
        metrics.counter("reprise.cache.saved.money", "cache", "recording", "currency", policy.cost().currency());
        metrics.counter("reprise.replay.replays");
        metrics.counter("reprise.cache.shadow.hits", "cache", "recording");
        metrics.counter("reprise.replay.errors", "reason", "unreadable");
        metrics.counter("reprise.replay.errors", "reason", "failed");
        metrics.counter("reprise.cache.evictions", "store", "recordings", "reason", "expired");
        metrics.counter("reprise.cache.evictions", "store", "recordings", "reason", "unused");
        metrics.counter("reprise.cache.evictions", "store", "recordings", "reason", "budget");
        metrics.counter("reprise.cache.invalidations", "store", "recordings", "reason", "invalidated");
    }

    /** A lookup that found a recording; {@code stale} when it was served while a refresh runs. */
    public void hit(String tenantId, long durationMs, boolean stale) {
        add(tenantId, Kind.HIT, 1);
        add(tenantId, Kind.SAVED_MS, durationMs);
        if (stale) {
            add(tenantId, Kind.STALE_HIT, 1);
        }
        metrics.counter("reprise.cache.requests", "cache", "recording", "result", stale ? "stale" : "hit").increment();
        metrics.counter("reprise.cache.saved.seconds", "cache", "recording").increment(durationMs / 1000.0);
        metrics.counter("reprise.cache.saved.money", "cache", "recording", "currency", policy.cost().currency())
                .increment(saved(1, durationMs).doubleValue());
    }

    /** Record-only mode: a lookup answered as a miss that would have hit. */
    public void shadowHit() {
        metrics.counter("reprise.cache.shadow.hits", "cache", "recording").increment();
    }

    public void miss(String tenantId) {
        add(tenantId, Kind.MISS, 1);
        metrics.counter("reprise.cache.requests", "cache", "recording", "result", "miss").increment();
    }

    public void replay(String tenantId) {
        add(tenantId, Kind.REPLAY, 1);
        metrics.counter("reprise.replay.replays").increment();
    }

    public void replayError(String tenantId, String reason) {
        add(tenantId, Kind.REPLAY_ERROR, 1);
        metrics.counter("reprise.replay.errors", "reason", reason).increment();
    }

    public void removed(String tenantId, String reason) {
        add(tenantId, "invalidated".equals(reason) ? Kind.INVALIDATION : Kind.EVICTION, 1);
        metrics.counter("invalidated".equals(reason) ? "reprise.cache.invalidations" : "reprise.cache.evictions",
                "store", "recordings", "reason", reason).increment();
    }

    /** The money {@code builds} live builds lasting {@code ms} in all would have cost. */
    public BigDecimal saved(long builds, long ms) {
        return policy.cost().perBuild().multiply(BigDecimal.valueOf(builds))
                .add(policy.cost().perComputeSecond().multiply(BigDecimal.valueOf(ms).movePointLeft(3)));
    }

    private void add(String tenantId, Kind kind, long n) {
        if (n != 0) {
            pending.computeIfAbsent(new Counter(tenantId == null ? "" : tenantId, kind), k -> new LongAdder()).add(n);
        }
    }

    /** Writes what was counted since the last flush into the current hour's rows. */
    @Scheduled(every = "${reprise.cache.stats-flush-every:5s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    public Uni<Void> flush() {
        Map<Counter, Long> counts = new java.util.HashMap<>();
        pending.forEach((counter, adder) -> {
            long n = adder.sumThenReset();
            if (n != 0) {
                counts.put(counter, n);
            }
        });
        if (counts.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        // One row per (tenant, hour); the column name comes from Kind, never from input. A count
        // whose write fails is kept for the next flush (only that one: the others were written).
        return Uni.join().all(counts.entrySet().stream().map(e -> pool.preparedQuery(upsert(e.getKey().kind().column))
                        .execute(Tuple.of(e.getKey().tenantId(), e.getValue())).replaceWithVoid()
                        .onFailure().invoke(failure -> {
                            LOG.warnf("Cache statistics not written (%s); kept for the next flush", failure.getMessage());
                            add(e.getKey().tenantId(), e.getKey().kind(), e.getValue());
                        })
                        .onFailure().recoverWithNull()).toList())
                .andFailFast().replaceWithVoid();
    }

    void onStop(@Observes ShutdownEvent event) {
        flush().await().atMost(Duration.ofSeconds(5));
    }

    /**
     * A tenant's (all tenants' when null) hours from {@code since}'s hour to this one, oldest first: every
     * hour of the window, an hour without traffic as zeros (a chart of "the last 24 hours" spans those hours).
     */
    public Uni<List<Hour>> hours(String tenantId, OffsetDateTime since) {
        return flush().chain(() -> pool.preparedQuery("""
                        SELECT w.hour, coalesce(sum(s.hits), 0) hits, coalesce(sum(s.misses), 0) misses,
                               coalesce(sum(s.stale_hits), 0) stale_hits, coalesce(sum(s.replays), 0) replays,
                               coalesce(sum(s.replay_errors), 0) replay_errors, coalesce(sum(s.evictions), 0) evictions,
                               coalesce(sum(s.invalidations), 0) invalidations, coalesce(sum(s.saved_ms), 0) saved_ms
                        FROM generate_series(date_trunc('hour', $1::timestamptz), date_trunc('hour', now()), interval '1 hour') AS w(hour)
                        LEFT JOIN cache_stats s ON s.hour = w.hour AND ($2::text IS NULL OR s.tenant_id = $2)
                        GROUP BY w.hour ORDER BY w.hour""")
                .execute(Tuple.of(since, tenantId))
                .map(rows -> {
                    List<Hour> hours = new ArrayList<>();
                    for (Row r : rows) {
                        hours.add(new Hour(r.getOffsetDateTime("hour"), r.getLong("hits"), r.getLong("misses"),
                                r.getLong("stale_hits"), r.getLong("replays"), r.getLong("replay_errors"),
                                r.getLong("evictions"), r.getLong("invalidations"), r.getLong("saved_ms")));
                    }
                    return hours;
                }));
    }

    private static String upsert(String column) {
        return "INSERT INTO cache_stats (hour, tenant_id, " + column + ") VALUES (date_trunc('hour', now()), $1, $2) "
                + "ON CONFLICT (tenant_id, hour) DO UPDATE SET " + column + " = cache_stats." + column + " + excluded." + column;
    }
}
