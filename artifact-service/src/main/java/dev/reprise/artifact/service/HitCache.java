package dev.reprise.artifact.service;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.reprise.artifact.config.ArtifactConfig;
import dev.reprise.artifact.store.ArtifactIndex.Hit;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.binder.cache.CaffeineCacheMetrics;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Optional;

/**
 * Hits answered from memory (issue 22): the index row of a key found live, kept for
 * {@code hit-cache-ttl}, so a hot key costs no PostgreSQL round trip. Only hits are kept (a miss
 * always asks the index), and the bytes are still checked against the digest whenever they are
 * served. Whatever this instance changes is forgotten at once: a key when it is saved, a tenant's
 * hits when it invalidates, a blob's when it is quarantined, everything when entries are pruned or
 * expire. Changes made through another instance reach this one within the TTL.
 */
@ApplicationScoped
public class HitCache {

    private record Key(String tenantId, String protocol, String key, String version) {
    }

    private final Cache<Key, Hit> cache;

    public HitCache(ArtifactConfig config, MeterRegistry registry) {
        if (config.hitCacheTtl().isZero()) {
            this.cache = null;
            return;
        }
        this.cache = Caffeine.newBuilder().expireAfterWrite(config.hitCacheTtl()).maximumSize(config.hitCacheEntries())
                .recordStats().build();
        CaffeineCacheMetrics.monitor(registry, cache, "artifact-hits");
    }

    public Optional<Hit> get(String tenantId, String protocol, String key, String version) {
        return cache == null ? Optional.empty() : Optional.ofNullable(cache.getIfPresent(new Key(tenantId, protocol, key, version)));
    }

    public void put(String tenantId, String protocol, String key, String version, Hit hit) {
        if (cache != null) {
            cache.put(new Key(tenantId, protocol, key, version), hit);
        }
    }

    /** A key was saved (replaced) here. */
    public void forget(String tenantId, String protocol, String key, String version) {
        if (cache != null) {
            cache.invalidate(new Key(tenantId, protocol, key, version));
        }
    }

    /** A tenant's entries were invalidated here. */
    public void forgetTenant(String tenantId) {
        if (cache != null) {
            cache.asMap().keySet().removeIf(k -> k.tenantId().equals(tenantId));
        }
    }

    /** A blob was quarantined: no entry pointing at it is a hit any more. */
    public void forgetDigest(String digest) {
        if (cache != null) {
            cache.asMap().values().removeIf(hit -> hit.digest().equals(digest));
        }
    }

    /** Entries were pruned, expired or deleted here: start again from the index. */
    public void clear() {
        if (cache != null) {
            cache.invalidateAll();
        }
    }
}
