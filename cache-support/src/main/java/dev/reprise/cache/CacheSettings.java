package dev.reprise.cache;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.smallrye.config.WithName;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;

/**
 * The Redis cache layer's settings ({@code reprise.redis-cache.*}): on or off, how long Redis
 * may take before a lookup goes to the source, per-cache TTLs, the largest value cached and the
 * secret its values are signed with.
 */
@ConfigMapping(prefix = "reprise.redis-cache")
public interface CacheSettings {

    /** Off: every lookup goes to the source and Redis is never called ({@code CACHE_ENABLED}). */
    @WithDefault("true")
    boolean enabled();

    /**
     * The secret every cached value is signed with ({@link CacheSigner}: HMAC-SHA256 over its key and
     * bytes), 16+ characters, the same on every service sharing the Redis (they read each other's
     * token grants). Unset: a random key per process, so a value is trusted only by the process that
     * wrote it and the cache works only within that process's lifetime.
     */
    Optional<String> signingSecret();

    /** Key prefix shared by all caches of the deployment. */
    @WithDefault("reprise")
    String prefix();

    /** A Redis call slower than this counts as a miss (or a failed invalidation). */
    @WithDefault("50ms")
    Duration timeout();

    /** TTL of caches without their own entry in {@link #caches()}. */
    @WithName("default-ttl")
    @WithDefault("5m")
    Duration defaultTtl();

    /** Values larger than this (serialized JSON, bytes) are not cached. */
    @WithDefault("524288")
    int maxValueBytes();

    /** How long an invalidated key refuses a value loaded before the write (stale-set guard). */
    @WithDefault("2s")
    Duration tombstone();

    /** How long one instance holds the right to load a missing key for everyone. */
    @WithDefault("5s")
    Duration lockTtl();

    /** How long a concurrent miss waits for another instance's load before loading itself. */
    @WithDefault("200ms")
    Duration lockWait();

    /** Consecutive Redis failures that open the circuit breaker. */
    @WithDefault("5")
    int breakerFailures();

    /** How long an open breaker skips Redis before trying it again. */
    @WithDefault("5s")
    Duration breakerOpen();

    /** Per-cache settings by cache name. */
    Map<String, Named> caches();

    interface Named {
        Duration ttl();

        /**
         * How long this process also keeps a value it read from Redis or loaded, in memory, before asking
         * Redis again (0: never). An invalidation through this process drops it at once; one through another
         * process reaches this one within this time, so keep it short (token grants: 1 s). Applies with
         * the Redis layer off too.
         */
        @WithDefault("0s")
        Duration local();
    }
}
