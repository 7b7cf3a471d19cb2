package dev.reprise.cache;

import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.Comparator;
import java.util.List;

/** {@code GET /api/v1/admin/caches}: this instance's Redis caches, their hit rates and health, the breaker and Redis's memory. */
@Path("/api/v1/admin/caches")
public class CacheStatsResource {

    /** The layer's state, Redis's memory (null when it does not answer) and each cache's counters and health. */
    public record Report(boolean enabled, String breaker, int pendingInvalidations, RedisCaches.Memory redis,
            List<RedisCache.Stats> caches) {
    }

    private final RedisCaches caches;

    public CacheStatsResource(RedisCaches caches) {
        this.caches = caches;
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Uni<Report> report() {
        return caches.memory().map(memory -> new Report(caches.enabled(), caches.breakerState().name(), caches.pendingInvalidations(),
                memory.orElse(null),
                caches.all().stream().map(RedisCache::stats).sorted(Comparator.comparing(RedisCache.Stats::name)).toList()));
    }
}
