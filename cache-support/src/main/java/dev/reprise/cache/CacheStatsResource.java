package dev.reprise.cache;

import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.MediaType;
import java.util.Comparator;
import java.util.List;

/** {@code GET /api/v1/admin/caches}: this instance's Redis caches, their hit rates and the breaker. */
@Path("/api/v1/admin/caches")
public class CacheStatsResource {

    /** The layer's state and each cache's counters. */
    public record Report(boolean enabled, String breaker, int pendingInvalidations, List<RedisCache.Stats> caches) {
    }

    private final RedisCaches caches;

    public CacheStatsResource(RedisCaches caches) {
        this.caches = caches;
    }

    @GET
    @Produces(MediaType.APPLICATION_JSON)
    public Report report() {
        return new Report(caches.enabled(), caches.breakerState().name(), caches.pendingInvalidations(),
                caches.all().stream().map(RedisCache::stats).sorted(Comparator.comparing(RedisCache.Stats::name)).toList());
    }
}
