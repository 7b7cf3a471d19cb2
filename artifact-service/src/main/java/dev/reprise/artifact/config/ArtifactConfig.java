package dev.reprise.artifact.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalLong;

/** How the content-addressed store behaves (prefix {@code reprise.artifact}). */
@ConfigMapping(prefix = "reprise.artifact")
public interface ArtifactConfig {

    /** Local working directory: upload spool files and the verified-blob disk cache. */
    Path dataDir();

    /** Largest blob any protocol accepts, in bytes (a larger upload gets 413). */
    @WithDefault("10737418240")
    long maxBlobBytes();

    /** Largest entry the Gradle build cache accepts (Gradle treats 413 as "not cached", never as a failure). */
    @WithDefault("104857600")
    long gradleMaxEntryBytes();

    /** Bytes one tenant may keep stored; a write beyond it gets 507. Unset: no quota. */
    OptionalLong tenantQuotaBytes();

    /** The size the pruner keeps the whole store under, least recently used entries going first. Unset: no budget. */
    OptionalLong budgetBytes();

    /** How long an entry lives without being saved again; a hit does not extend it. */
    @WithDefault("30d")
    Duration entryTtl();

    /** Size of the disk cache of verified blobs in front of S3 (hot GETs are served from it with sendfile). */
    @WithDefault("2147483648")
    long localCacheBytes();

    /**
     * Blobs up to this size are read whole and verified against their digest before a byte is sent
     * (from memory, once per request in flight: keep it small); larger ones are hashed as they are
     * sent, their last bytes held back until the digest matches.
     */
    @WithDefault("262144")
    long verifyInMemoryBytes();

    /** The branch whose entries every other branch may restore from (actions/cache scoping). */
    @WithDefault("main")
    String defaultBranch();

    /** How often expired entries are removed, the store pruned to its budget and unreferenced blobs collected ("off" to stop). */
    @WithDefault("10m")
    String lifecycleEvery();

    /** Blobs unreferenced for less than this are kept (an upload may be about to point at them). */
    @WithDefault("10m")
    Duration collectGrace();

    /** Soft-deleted entry rows are kept this long for audit, then purged. */
    @WithDefault("7d")
    Duration keepDeletedEntries();

    /** How often the integrity job re-hashes a batch of blobs ("off" to stop). */
    @WithDefault("1h")
    String integrityEvery();

    /** How often recorded hits are written as entries' last access. */
    @WithDefault("5s")
    String accessFlushEvery();

    /**
     * Signs the upload and download URLs the actions/cache protocols hand out (they carry no
     * token); every instance needs the same. Unset: a random key of this process only.
     */
    Optional<String> urlSigningSecret();

    /** Dependency-cache hit rates get a row for this many repositories (those with the most lookups), then one for the rest. */
    @WithDefault("20")
    int dependencyTopRepositories();

    /** How long a signed actions/cache URL stays valid. */
    @WithDefault("15m")
    Duration signedUrlTtl();

    /**
     * The base URL clients reach this service at, for the absolute URLs actions/cache needs (e.g.
     * {@code https://cache.example.com}). Unset: the request's scheme and Host.
     */
    Optional<String> publicUrl();

    /** An actions/cache upload not committed within this is dropped with its bytes. */
    @WithDefault("1h")
    Duration uploadTtl();

    /** Blobs re-hashed per integrity run (least recently verified first). */
    @WithDefault("200")
    int integrityBatch();

    /**
     * How long a hit found in the index is answered from this instance's memory without asking
     * PostgreSQL again (0: always ask). Changes made through this instance (saves, invalidations,
     * quarantines, pruning) take effect at once; those made through another instance within this
     * bound.
     */
    @WithDefault("2s")
    Duration hitCacheTtl();

    /** Hits kept in memory at most (least recently used go first). */
    @WithDefault("100000")
    long hitCacheEntries();

    /** Write-behind of replaceable saves (every protocol but actions/cache and the dependency caches). */
    WriteBehind writeBehind();

    /**
     * A replaceable save is acknowledged once its bytes and its entry are durable on this
     * instance's disk (fsync); S3 and the index get them in batches behind it. This instance
     * serves the entry at once; others see it once its batch is committed.
     */
    interface WriteBehind {

        /** Off: every save uploads to S3 and commits the index before it is answered. */
        @WithDefault("true")
        boolean enabled();

        /** Bytes waiting for S3 at most; a save beyond it is stored the direct way (and waits). */
        @WithDefault("1073741824")
        long maxBytes();

        /** Saves waiting at most; beyond it a save is stored the direct way. */
        @WithDefault("20000")
        int maxEntries();

        /** Saves committed to the index per transaction. */
        @WithDefault("256")
        int batch();

        /** S3 uploads in flight per batch. */
        @WithDefault("16")
        int uploads();

        /**
         * Blobs smaller than this, stored in one batch, share one S3 object (a pack, read back with
         * ranged GETs): one upload instead of one per blob. 0: every blob gets its own object.
         */
        @WithDefault("2097152")
        long packBelow();

        /** A pack is closed at this size and the next one started. */
        @WithDefault("16777216")
        long packBytes();

        /** How long the writer waits for more saves before storing a batch that is not full. */
        @WithDefault("2ms")
        Duration linger();
    }
}
