package dev.reprise.cache;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JavaType;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Timer;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * One named cache-aside cache of JSON values in Redis, keys namespaced
 * {@code <prefix>:cache:<name>:<key>}.
 *
 * <ul>
 *   <li>{@link #getOrLoad}: a hit answers from Redis; a miss runs the loader once per instance
 *       (concurrent misses share it) and, through a short {@code SET NX PX} lock, once across
 *       instances (the others wait briefly for its value, then load themselves).</li>
 *   <li>Redis errors, timeouts and an open breaker are misses: the loader answers and nothing fails.</li>
 *   <li>{@link #invalidate} after every write to the source of truth: a short tombstone replaces the
 *       value so a load that started before the write cannot store its old value after it; the TTL
 *       is the safety net.</li>
 *   <li>Values are signed for their key ({@link CacheSigner}); one that is unsigned, badly signed,
 *       signed for another key or unreadable is refused: counted, logged, dropped, and a miss.</li>
 *   <li>With a local time ({@code reprise.redis-cache.caches.<name>.local}), values this process read
 *       (verified) or loaded are also kept in memory that long (bounded): a hot key costs no Redis round
 *       trip. {@link #invalidate}, {@link #evict} and {@link #set} through this process take effect
 *       here at once.</li>
 * </ul>
 */
public final class RedisCache<T> {

    private static final Logger LOG = Logger.getLogger(RedisCache.class);
    private static final Duration POLL = Duration.ofMillis(20);
    private static final long WARN_EVERY_NANOS = Duration.ofSeconds(10).toNanos();
    private static final List<String> REFUSALS = List.of("unsigned", "malformed", "bad-mac", "unreadable");

    /**
     * What the cache did since start (this instance): {@code hits} from Redis, {@code localHits} from this
     * process's memory; {@code hitRate} counts both; {@code health} is {@code healthy} at 80 % or more,
     * {@code low-hit-rate} below it, {@code warming} before 20 requests.
     */
    public record Stats(String name, long hits, long misses, long errors, long loads, double loadMsAverage,
            long tooLarge, long invalidations, double hitRate, long ttlSeconds, long refused, long localHits, String health) {
    }

    /** A hit rate at or above this is healthy (seed 001: 80 %); below it, once {@link #HEALTH_MIN_REQUESTS} were seen, low. */
    static final double HEALTHY_HIT_RATE = 0.8;
    static final long HEALTH_MIN_REQUESTS = 20;

    /** Keys kept in memory at most, per cache with a local time. */
    static final int LOCAL_MAX = 10_000;

    private final RedisCaches redis;
    private final String name;
    private final String namespace;
    private final JavaType type;
    private final Duration ttl;
    /** Values kept in this process (null when the cache has no local time). */
    private final Cache<String, T> local;
    private final LongAdder localHits = new LongAdder();
    private final Map<String, Uni<T>> inFlight = new ConcurrentHashMap<>();
    private final LongAdder hits = new LongAdder();
    private final LongAdder misses = new LongAdder();
    private final LongAdder errors = new LongAdder();
    private final LongAdder loads = new LongAdder();
    private final LongAdder loadNanos = new LongAdder();
    private final LongAdder tooLarge = new LongAdder();
    private final LongAdder invalidations = new LongAdder();
    private final LongAdder refused = new LongAdder();
    private final AtomicLong nextRefusalWarning = new AtomicLong(System.nanoTime());
    private final LongAdder refusedSinceWarning = new LongAdder();
    private final Map<String, Counter> refusedCounters = new ConcurrentHashMap<>();
    private final Counter hitCounter;
    private final Counter missCounter;
    private final Counter errorCounter;
    private final Counter localHitCounter;
    private final Timer loadTimer;

    RedisCache(RedisCaches redis, String name, JavaType type, Duration ttl, Duration localTtl) {
        this.redis = redis;
        this.name = name;
        this.namespace = redis.namespace(name);
        this.type = type;
        this.ttl = ttl;
        this.local = localTtl.isZero() || localTtl.isNegative() ? null
                : Caffeine.newBuilder().expireAfterWrite(localTtl).maximumSize(LOCAL_MAX).build();
        this.hitCounter = redis.metrics().counter("reprise.redis.cache.requests", "cache", name, "result", "hit");
        this.missCounter = redis.metrics().counter("reprise.redis.cache.requests", "cache", name, "result", "miss");
        this.errorCounter = redis.metrics().counter("reprise.redis.cache.requests", "cache", name, "result", "error");
        this.localHitCounter = redis.metrics().counter("reprise.redis.cache.requests", "cache", name, "result", "local-hit");
        this.loadTimer = Timer.builder("reprise.redis.cache.load").tag("cache", name)
                .description("Time the source took to answer a cache miss").register(redis.metrics());
        // Registered at zero so an alert on forged or foreign values sees the series before the first one.
        for (String reason : REFUSALS) {
            refusedCounters.put(reason, Counter.builder("reprise.redis.cache.refused").tag("cache", name).tag("reason", reason)
                    .description("Values read from Redis and not trusted (unsigned, malformed, bad MAC, unreadable)")
                    .register(redis.metrics()));
        }
    }

    public String name() {
        return name;
    }

    JavaType type() {
        return type;
    }

    /** The cached value, or the loader's (stored for next time). A null from the loader is returned, not cached. */
    public Uni<T> getOrLoad(String key, Supplier<Uni<T>> loader) {
        if (local == null) {
            return redis.enabled() ? lookup(key, loader) : load(loader);
        }
        // The local time applies with the Redis layer off too: it is this process's memory, not Redis.
        T kept = local.getIfPresent(key);
        if (kept != null) {
            localHits.increment();
            localHitCounter.increment();
            return Uni.createFrom().item(kept);
        }
        return (redis.enabled() ? lookup(key, loader) : load(loader)).invoke(value -> keep(key, value));
    }

    /** The cached value, if Redis has one (errors are empty). */
    public Uni<Optional<T>> get(String key) {
        if (!redis.enabled()) {
            return Uni.createFrom().item(Optional.empty());
        }
        return read(namespace + key).map(Optional::ofNullable).onFailure().recoverWithItem(e -> {
            error(e);
            return Optional.empty();
        });
    }

    /** Stores a value known to be current (overwriting); false when it was not cached. */
    public Uni<Boolean> set(String key, T value) {
        keep(key, value);
        if (!redis.enabled()) {
            return Uni.createFrom().item(false);
        }
        return store(namespace + key, value, false);
    }

    /** Call after the source of truth for {@code key} changed; never fails (see {@link RedisCaches#invalidate}). */
    public Uni<Void> invalidate(String key) {
        invalidations.increment();
        forget(key);
        if (!redis.enabled()) {
            return Uni.createFrom().voidItem();
        }
        return redis.invalidate(namespace + key).replaceWithVoid();
    }

    /**
     * Drops the cached copy without a tombstone: for changes that do not make the old value wrong
     * enough to bypass the cache (counters), where a racing load storing it again is harmless.
     */
    public Uni<Void> evict(String key) {
        forget(key);
        if (!redis.enabled()) {
            return Uni.createFrom().voidItem();
        }
        return redis.delete(namespace + key).onFailure().recoverWithNull();
    }

    /** Removes every key of this cache matching the glob {@code pattern} (SCAN in batches); how many. */
    public Uni<Long> invalidateMatching(String pattern) {
        invalidations.increment();
        if (local != null) {
            local.invalidateAll(); // a glob over keys kept here: dropping them all is the simple, safe answer
        }
        if (!redis.enabled()) {
            return Uni.createFrom().item(0L);
        }
        return redis.deleteMatching(namespace + pattern);
    }

    /** Loads {@code keys} into the cache in the background (a few at a time); returns at once. */
    public void warm(Collection<String> keys, Function<String, Uni<T>> loader) {
        if (!redis.enabled() || keys.isEmpty()) {
            return;
        }
        Multi.createFrom().iterable(keys)
                .onItem().transformToUni(k -> getOrLoad(k, () -> loader.apply(k)).onFailure().recoverWithNull()).merge(4)
                .collect().with(java.util.stream.Collectors.counting())
                .subscribe().with(n -> LOG.debugf("Warmed %d key(s) of cache %s", n, name),
                        e -> LOG.warnf("Warming cache %s stopped: %s", name, e.getMessage()));
    }

    public Stats stats() {
        long h = hits.sum();
        long m = misses.sum();
        long e = errors.sum();
        long l = loads.sum();
        long kept = localHits.sum();
        long requests = h + kept + m + e;
        double rate = requests == 0 ? 0 : (double) (h + kept) / requests;
        String health = requests < HEALTH_MIN_REQUESTS ? "warming" : rate >= HEALTHY_HIT_RATE ? "healthy" : "low-hit-rate";
        return new Stats(name, h, m, e, l, l == 0 ? 0 : loadNanos.sum() / 1e6 / l, tooLarge.sum(), invalidations.sum(),
                rate, ttl.toSeconds(), refused.sum(), kept, health);
    }

    private void keep(String key, T value) {
        if (local != null && value != null) {
            local.put(key, value);
        }
    }

    private void forget(String key) {
        if (local != null) {
            local.invalidate(key);
        }
    }

    // --- the lookup ---

    private Uni<T> lookup(String key, Supplier<Uni<T>> loader) {
        String full = namespace + key;
        return redis.readable().flatMap(readable -> {
            if (!readable) {
                errors.increment();
                errorCounter.increment();
                return load(loader);
            }
            return redis.get(full).map(raw -> new Read(raw, null)).onFailure().recoverWithItem(e -> new Read(null, e))
                    .flatMap(read -> {
                        if (read.failure() != null) {
                            error(read.failure());
                            return load(loader);
                        }
                        T cached = decode(full, read.raw());
                        if (cached != null) {
                            hit();
                            return Uni.createFrom().item(cached);
                        }
                        misses.increment();
                        missCounter.increment();
                        // Just invalidated: read the source, and do not cache what may predate the write.
                        if (RedisCaches.TOMBSTONE.equals(read.raw())) {
                            return load(loader);
                        }
                        // Concurrent misses of this key on this instance share one load.
                        return inFlight.computeIfAbsent(key, k -> loadOnce(full, loader)
                                .onTermination().invoke(() -> inFlight.remove(k))
                                .memoize().indefinitely());
                    });
        });
    }

    private record Read(String raw, Throwable failure) {
    }

    /** One load across instances: the lock holder loads and stores; the others wait for its value briefly. */
    private Uni<T> loadOnce(String full, Supplier<Uni<T>> loader) {
        String lock = full + ":lock";
        return redis.lock(lock, UUID.randomUUID().toString(), redis.settings().lockTtl())
                .onFailure().recoverWithItem((Boolean) null)
                .flatMap(acquired -> {
                    if (acquired == null) {
                        return load(loader); // Redis failed between the read and the lock: no caching now
                    }
                    if (acquired) {
                        return load(loader)
                                .call(value -> value == null ? Uni.createFrom().voidItem() : store(full, value, true))
                                .call(() -> redis.delete(lock).onFailure().recoverWithNull());
                    }
                    return awaitOther(full, System.nanoTime() + redis.settings().lockWait().toNanos())
                            .flatMap(value -> value != null ? Uni.createFrom().item(value) : load(loader));
                });
    }

    private Uni<T> awaitOther(String full, long deadline) {
        return Uni.createFrom().voidItem().onItem().delayIt().by(POLL)
                .flatMap(ignored -> redis.get(full).onFailure().recoverWithNull())
                .flatMap(raw -> {
                    T value = decode(full, raw);
                    if (value != null) {
                        return Uni.createFrom().item(value);
                    }
                    return RedisCaches.TOMBSTONE.equals(raw) || System.nanoTime() >= deadline
                            ? Uni.createFrom().nullItem()
                            : awaitOther(full, deadline);
                });
    }

    private Uni<T> load(Supplier<Uni<T>> loader) {
        long start = System.nanoTime();
        return Uni.createFrom().<T>deferred(() -> loader.get()).eventually(() -> {
            long took = System.nanoTime() - start;
            loads.increment();
            loadNanos.add(took);
            loadTimer.record(took, TimeUnit.NANOSECONDS);
        });
    }

    private Uni<Boolean> store(String full, T value, boolean onlyIfAbsent) {
        byte[] encoded;
        try {
            encoded = redis.json().writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            LOG.warnf("Cache %s: value not cached, not serializable (%s)", name, e.getOriginalMessage());
            return Uni.createFrom().item(false);
        }
        if (encoded.length > redis.settings().maxValueBytes()) {
            tooLarge.increment();
            return Uni.createFrom().item(false);
        }
        String sealed = redis.signer().seal(full, new String(encoded, StandardCharsets.UTF_8));
        return redis.set(full, sealed, ttl, onlyIfAbsent)
                .onFailure().recoverWithItem(e -> {
                    error(e);
                    return false;
                });
    }

    private Uni<T> read(String full) {
        return redis.get(full).map(raw -> decode(full, raw));
    }

    /**
     * The value, or null for absent, a tombstone or a value that is refused (not signed by this
     * deployment for this key, or unreadable), which is dropped: the caller then asks the source.
     */
    private T decode(String full, String raw) {
        if (raw == null || RedisCaches.TOMBSTONE.equals(raw)) {
            return null;
        }
        CacheSigner.Opened opened = redis.signer().open(full, raw);
        if (!opened.valid()) {
            refuse(full, opened.refusal(), null);
            return null;
        }
        try {
            return redis.json().readValue(opened.json(), type);
        } catch (JsonProcessingException e) {
            refuse(full, "unreadable", e.getOriginalMessage());
            return null;
        }
    }

    /**
     * Counts, reports and drops a value that must not be used. The key is not logged: for token
     * grants it is derived from the token. Warnings are at most one per 10 s per cache, with the count.
     */
    private void refuse(String full, String reason, String detail) {
        refused.increment();
        refusedCounters.get(reason).increment();
        refusedSinceWarning.increment();
        long now = System.nanoTime();
        long next = nextRefusalWarning.get();
        if (now - next >= 0 && nextRefusalWarning.compareAndSet(next, now + WARN_EVERY_NANOS)) {
            LOG.warnf("Cache %s: refused %d value(s) read from Redis (latest: %s%s) and asked the source instead;"
                    + " a value not signed for its key is forged or was written with another reprise.redis-cache.signing-secret",
                    name, refusedSinceWarning.sumThenReset(), reason, detail == null ? "" : ", " + detail);
        } else {
            LOG.debugf("Cache %s: refused a value read from Redis (%s)", name, reason);
        }
        redis.delete(full).subscribe().with(ignored -> { }, ignored -> { });
    }

    private void hit() {
        hits.increment();
        hitCounter.increment();
    }

    private void error(Throwable e) {
        errors.increment();
        errorCounter.increment();
        LOG.debugf("Cache %s: Redis unavailable (%s); using the source", name, e.toString());
    }
}
