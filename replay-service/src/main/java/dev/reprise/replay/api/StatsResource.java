package dev.reprise.replay.api;

import dev.reprise.web.Problem;
import dev.reprise.replay.policy.CachePolicy;
import dev.reprise.replay.policy.CacheStats;
import dev.reprise.replay.store.ReadCounter;
import dev.reprise.replay.store.RecordingIndex;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.time.OffsetDateTime;
import java.util.List;

/**
 * {@code GET /api/v1/stats?tenant=&hours=24}: what the recording cache did and saved over the
 * last hours (one tenant's, or all when no tenant), with an hourly series for charts.
 */
@Path("/api/v1/stats")
public class StatsResource {

    static final int MAX_HOURS = 24 * 90;

    /** One hour of the series. */
    public record HourView(OffsetDateTime hour, long hits, long misses, long staleHits, double hitRate, long replays,
            long replayErrors, long evictions, long invalidations, long savedMs) {
    }

    /** A frequently replayed build, and when it was last read. */
    public record Popular(String cacheKey, String repository, String buildId, long reads, long durationMs,
            OffsetDateTime lastAccessAt) {
    }

    /** How many builds "most replayed" lists. */
    static final int POPULAR = 20;

    /** The cost model the money figure uses. */
    public record CostModel(BigDecimal perBuild, BigDecimal perComputeSecond, String currency) {
    }

    public record Stats(String tenant, int hours, long hits, long misses, long staleHits, double hitRate, long replays,
            long replayErrors, long evictions, long invalidations, long recordings, long storedBytes,
            double timeSavedSeconds, BigDecimal moneySaved, CostModel costModel, List<HourView> series,
            List<Popular> mostReplayed) {
    }

    private final CacheStats stats;
    private final RecordingIndex index;
    private final CachePolicy policy;
    private final ReadCounter reads;

    public StatsResource(CacheStats stats, RecordingIndex index, CachePolicy policy, ReadCounter reads) {
        this.stats = stats;
        this.index = index;
        this.policy = policy;
        this.reads = reads;
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Uni<Response> stats(@QueryParam("tenant") String tenant, @QueryParam("hours") Integer hours) {
        int window = hours == null ? 24 : hours;
        if (window < 1 || window > MAX_HOURS) {
            return Uni.createFrom().item(Problem.badRequest("hours: must be between 1 and " + MAX_HOURS));
        }
        Uni<List<CacheStats.Hour>> series = stats.hours(tenant, OffsetDateTime.now().minusHours(window - 1L));
        // This instance's unwritten read counts go in first, so "most replayed" includes them.
        return reads.flush().chain(() -> Uni.combine().all().unis(series, index.totals(tenant), index.mostRead(tenant, POPULAR)).asTuple()).map(t -> {
            List<CacheStats.Hour> h = t.getItem1();
            long hits = h.stream().mapToLong(CacheStats.Hour::hits).sum();
            long misses = h.stream().mapToLong(CacheStats.Hour::misses).sum();
            long savedMs = h.stream().mapToLong(CacheStats.Hour::savedMs).sum();
            CachePolicy.Cost cost = policy.cost();
            return Response.ok(new Stats(tenant, window, hits, misses, h.stream().mapToLong(CacheStats.Hour::staleHits).sum(),
                    hits + misses == 0 ? 0 : (double) hits / (hits + misses),
                    h.stream().mapToLong(CacheStats.Hour::replays).sum(),
                    h.stream().mapToLong(CacheStats.Hour::replayErrors).sum(),
                    h.stream().mapToLong(CacheStats.Hour::evictions).sum(),
                    h.stream().mapToLong(CacheStats.Hour::invalidations).sum(),
                    t.getItem2()[0], t.getItem2()[1], savedMs / 1000.0,
                    stats.saved(hits, savedMs).setScale(4, RoundingMode.HALF_UP),
                    new CostModel(cost.perBuild(), cost.perComputeSecond(), cost.currency()),
                    h.stream().map(x -> new HourView(x.hour(), x.hits(), x.misses(), x.staleHits(), x.hitRate(), x.replays(),
                            x.replayErrors(), x.evictions(), x.invalidations(), x.savedMs())).toList(),
                    t.getItem3().stream().map(e -> new Popular(e.cacheKey(), e.repository(), e.buildId(), e.accessCount(),
                            e.durationMs(), e.lastAccessAt())).toList())).build();
        });
    }
}
