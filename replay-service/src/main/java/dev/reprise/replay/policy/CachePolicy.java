package dev.reprise.replay.policy;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.math.BigDecimal;
import java.time.Duration;

/** How long recordings stay hits, when they go, and what a hit is worth. */
@ConfigMapping(prefix = "reprise.cache")
public interface CachePolicy {

    /** A successful build's recording is a hit for this long. */
    @WithDefault("30d")
    Duration successTtl();

    /** A failed build's recording is a hit for this long (timeouts and cancellations are never recorded). */
    @WithDefault("1d")
    Duration failureTtl();

    /** Entries not read for this long ... */
    @WithDefault("30d")
    Duration evictUnreadAfter();

    /** ... with fewer reads than this are evicted; popular entries stay until they expire. */
    @WithDefault("5")
    long evictMinReads();

    /**
     * The most bytes of recordings the store keeps ({@code REPRISE_CACHE_MAX_BYTES}, e.g. 50G); each
     * sweep then evicts the least valuable first: the least build time saved per stored byte
     * ((reads + 1) × build duration ÷ bytes), the longest unread first among equals. Unset: no budget.
     */
    java.util.Optional<io.quarkus.runtime.configuration.MemorySize> maxBytes();

    /** How often the evictor sweeps. */
    @WithDefault("10m")
    Duration evictionEvery();

    /**
     * A hit older than this on an entry read at least {@link #refreshMinReads()} times is served
     * as stale: the caller gets it at once and is told to refresh it in the background.
     */
    @WithDefault("7d")
    Duration refreshAfter();

    @WithDefault("5")
    long refreshMinReads();

    /**
     * Decoded recordings kept in memory, by object (objects never change), least recently used
     * out first: a hot recording is replayed without an S3 read or a decode, and every socket
     * replaying it shares one copy. 0 turns it off.
     */
    @WithDefault("64M")
    io.quarkus.runtime.configuration.MemorySize memoryCache();

    /**
     * How many of the most read recordings' lookups are loaded into the cache at start
     * ({@code REPRISE_CACHE_WARM_ENTRIES}; 0: none), so a restart does not begin with a cold cache.
     */
    @WithDefault("200")
    int warmEntries();

    /** The cost model behind "money saved". */
    Cost cost();

    /**
     * The rollout switch ({@code REPRISE_REPLAY_MODE}): {@code on} records builds and answers hits;
     * {@code record-only} records them but answers every lookup as a miss (every build runs live; a
     * lookup that would have hit is counted, {@code reprise_cache_shadow_hits_total}), to fill and check
     * the cache before serving from it; {@code off} neither records nor answers.
     */
    @WithDefault("on")
    Mode mode();

    enum Mode {
        ON, RECORD_ONLY, OFF;

        public boolean serves() {
            return this == ON;
        }

        public boolean records() {
            return this != OFF;
        }

        @Override
        public String toString() {
            return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
        }
    }

    interface Cost {
        /** What one live build costs regardless of its length (scheduling, checkout, runner start). */
        @WithDefault("0.002")
        BigDecimal perBuild();

        /** What one second of live build costs (runner compute). */
        @WithDefault("0.0001")
        BigDecimal perComputeSecond();

        @WithDefault("USD")
        String currency();
    }
}
