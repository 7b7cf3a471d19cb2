package dev.reprise.cache;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.redis.datasource.ReactiveRedisDataSource;
import io.quarkus.redis.datasource.keys.KeyScanArgs;
import io.quarkus.redis.datasource.keys.ReactiveKeyCommands;
import io.quarkus.redis.datasource.value.ReactiveValueCommands;
import io.smallrye.mutiny.Uni;
import jakarta.inject.Inject;
import jakarta.inject.Singleton;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * The Redis side shared by every {@link RedisCache} of a service: one connection pool, one
 * circuit breaker, bounded timeouts, and the invalidations that could not reach Redis. Redis can
 * only make lookups faster: any error or timeout is a miss, and a write whose invalidation did
 * not reach Redis keeps this instance off Redis until that invalidation has been replayed. Every
 * value is signed ({@link CacheSigner}): one read from Redis grants nothing unless this deployment
 * wrote it under that key.
 */
@Singleton
public class RedisCaches {

    private static final Logger LOG = Logger.getLogger(RedisCaches.class);
    static final String TOMBSTONE = "\u0000invalidated";
    private static final int MAX_PENDING = 10_000;
    private static final int SCAN_BATCH = 1000;

    /** Redis was skipped: the breaker is open or invalidations are waiting to be replayed. */
    static final class Skipped extends RuntimeException {
        Skipped(String why) {
            super(why, null, false, false);
        }
    }

    private final CacheSettings settings;
    private final ObjectMapper json;
    private final MeterRegistry metrics;
    private final ReactiveRedisDataSource redis;
    private final ReactiveValueCommands<String, String> values;
    private final ReactiveKeyCommands<String> keys;
    private final CircuitBreaker breaker;
    private final CacheSigner signer;
    private final AtomicBoolean ephemeralKeyLogged = new AtomicBoolean();
    private final Map<String, RedisCache<?>> caches = new ConcurrentHashMap<>();
    private final Set<String> pendingInvalidations = ConcurrentHashMap.newKeySet();
    private final AtomicBoolean pendingOverflow = new AtomicBoolean();
    private final AtomicBoolean replaying = new AtomicBoolean();

    @Inject
    public RedisCaches(ReactiveRedisDataSource redis, CacheSettings settings, ObjectMapper json, MeterRegistry metrics) {
        this.settings = settings;
        this.json = json;
        this.metrics = metrics;
        this.redis = redis;
        this.values = redis.value(String.class, String.class);
        this.keys = redis.key(String.class);
        this.breaker = new CircuitBreaker(settings.breakerFailures(), settings.breakerOpen());
        this.signer = settings.signingSecret().map(CacheSigner::fromSecret).orElseGet(CacheSigner::ephemeral);
    }

    /** The cache named {@code name} holding {@code type} values (one instance per name). */
    public <T> RedisCache<T> cache(String name, Class<T> type) {
        return cache(name, json.constructType(type));
    }

    public <T> RedisCache<T> cache(String name, TypeReference<T> type) {
        return cache(name, json.getTypeFactory().constructType(type));
    }

    @SuppressWarnings("unchecked")
    private <T> RedisCache<T> cache(String name, JavaType type) {
        if (!name.matches("[a-z0-9][a-z0-9-]{0,40}")) {
            throw new IllegalArgumentException("cache names are lower-case letters, digits and dashes: " + name);
        }
        if (signer.isEphemeral() && settings.enabled() && ephemeralKeyLogged.compareAndSet(false, true)) {
            LOG.warn("reprise.redis-cache.signing-secret is not set: cached values are signed with a key of this process,"
                    + " so other instances cannot use them and they are lost on restart; set it (REPRISE_CACHE_SIGNING_SECRET)"
                    + " to the same value on every service sharing the Redis");
        }
        RedisCache<?> cache = caches.computeIfAbsent(name, n -> new RedisCache<T>(this, n, type, ttlOf(n), localOf(n)));
        if (!cache.type().equals(type)) {
            throw new IllegalArgumentException("cache " + name + " already holds " + cache.type());
        }
        return (RedisCache<T>) cache;
    }

    public Collection<RedisCache<?>> all() {
        return List.copyOf(caches.values());
    }

    public CircuitBreaker.State breakerState() {
        return breaker.state();
    }

    public int pendingInvalidations() {
        return pendingInvalidations.size();
    }

    // --- what RedisCache uses ---

    boolean enabled() {
        return settings.enabled();
    }

    CacheSettings settings() {
        return settings;
    }

    ObjectMapper json() {
        return json;
    }

    MeterRegistry metrics() {
        return metrics;
    }

    CacheSigner signer() {
        return signer;
    }

    String namespace(String cacheName) {
        return settings.prefix() + ":cache:" + cacheName + ":";
    }

    /** What Redis says of its memory (INFO memory, INFO stats): how full it is and what it evicted. */
    public record Memory(long usedBytes, long maxBytes, String policy, long evictedKeys) {
    }

    /** Redis's memory, or empty when the layer is off or Redis does not answer within the timeout. */
    public Uni<java.util.Optional<Memory>> memory() {
        if (!enabled()) {
            return Uni.createFrom().item(java.util.Optional.empty());
        }
        // Through call(): bounded, skipped while the breaker is open, and counted by it like every other Redis call.
        return call(() -> redis.execute("INFO", "memory").map(String::valueOf)
                        .flatMap(memory -> redis.execute("INFO", "stats").map(stats -> memory + "\n" + stats)),
                        settings.timeout().multipliedBy(4))
                .map(info -> java.util.Optional.of(new Memory(infoLong(info, "used_memory"), infoLong(info, "maxmemory"),
                        infoField(info, "maxmemory_policy"), infoLong(info, "evicted_keys"))))
                .onFailure().recoverWithItem(java.util.Optional.empty());
    }

    static String infoField(String info, String field) {
        for (String line : info.split("\r?\n")) {
            if (line.startsWith(field + ":")) {
                return line.substring(field.length() + 1).strip();
            }
        }
        return "";
    }

    static long infoLong(String info, String field) {
        String value = infoField(info, field);
        return value.isEmpty() ? -1 : Long.parseLong(value);
    }

    /** GET within the timeout; fails (without calling Redis) when Redis is to be skipped. */
    Uni<String> get(String key) {
        return call(() -> values.get(key), settings.timeout());
    }

    /**
     * SET with a TTL; {@code onlyIfAbsent} (NX) leaves an existing value or tombstone alone.
     * True when the value was stored.
     */
    Uni<Boolean> set(String key, String value, Duration ttl, boolean onlyIfAbsent) {
        String[] args = onlyIfAbsent
                ? new String[] {key, value, "PX", Long.toString(ttl.toMillis()), "NX"}
                : new String[] {key, value, "PX", Long.toString(ttl.toMillis())};
        return call(() -> redis.execute("SET", args).map(response -> response != null), settings.timeout());
    }

    /** SET NX PX for a lock; true when this caller now holds it. */
    Uni<Boolean> lock(String key, String owner, Duration ttl) {
        return set(key, owner, ttl, true);
    }

    Uni<Void> delete(String key) {
        return call(() -> keys.unlink(key).replaceWithVoid(), settings.timeout());
    }

    /**
     * Marks {@code key} invalidated (a short-lived tombstone, so a value loaded before the write
     * cannot be stored after it). When Redis cannot be reached the invalidation is kept and
     * replayed before this instance reads from Redis again; the result never fails.
     */
    Uni<Boolean> invalidate(String key) {
        return set(key, TOMBSTONE, settings.tombstone(), false)
                .onFailure().recoverWithItem(e -> {
                    if (pendingInvalidations.size() < MAX_PENDING) {
                        pendingInvalidations.add(key);
                    } else {
                        pendingOverflow.set(true);
                    }
                    LOG.debugf("Invalidation of %s kept for replay (%s)", key, e.toString());
                    return false;
                });
    }

    /** Deletes every key matching {@code pattern} with SCAN and UNLINK in batches (never KEYS); how many. */
    Uni<Long> deleteMatching(String pattern) {
        Duration batchTimeout = settings.timeout().compareTo(Duration.ofSeconds(2)) > 0 ? settings.timeout() : Duration.ofSeconds(2);
        return keys.scan(new KeyScanArgs().match(pattern).count(SCAN_BATCH)).toMulti()
                .group().intoLists().of(SCAN_BATCH)
                .onItem().transformToUniAndConcatenate(batch -> keys.unlink(batch.toArray(String[]::new))
                        .ifNoItem().after(batchTimeout).fail())
                .collect().with(java.util.stream.Collectors.summingLong(Integer::longValue));
    }

    /**
     * Whether reads may use Redis now: true unless invalidations wait to be replayed and cannot be
     * replayed yet (a stale copy could still be there).
     */
    Uni<Boolean> readable() {
        if (pendingInvalidations.isEmpty() && !pendingOverflow.get()) {
            return Uni.createFrom().item(true);
        }
        if (!replaying.compareAndSet(false, true)) {
            return Uni.createFrom().item(false);
        }
        Uni<Void> replay = pendingOverflow.get() && !caches.isEmpty()
                ? Uni.join().all(caches.keySet().stream().map(name -> deleteMatching(namespace(name) + "*").replaceWithVoid())
                        .toList()).andFailFast().replaceWithVoid().invoke(() -> pendingOverflow.set(false))
                : Uni.createFrom().voidItem();
        return replay.chain(() -> pendingInvalidations.isEmpty() ? Uni.createFrom().voidItem() : Uni.join().all(List.copyOf(pendingInvalidations).stream()
                        .map(key -> set(key, TOMBSTONE, settings.tombstone(), false).invoke(() -> pendingInvalidations.remove(key))
                                .replaceWithVoid())
                        .toList()).usingConcurrencyOf(16).andFailFast().replaceWithVoid())
                .map(ignored -> pendingInvalidations.isEmpty() && !pendingOverflow.get())
                .onFailure().recoverWithItem(false)
                .eventually(() -> replaying.set(false));
    }

    private <R> Uni<R> call(Supplier<Uni<R>> op, Duration timeout) {
        if (!breaker.allows()) {
            return Uni.createFrom().failure(new Skipped("circuit breaker open"));
        }
        return Uni.createFrom().deferred(() -> op.get()).ifNoItem().after(timeout).fail()
                .onItemOrFailure().invoke((item, failure) -> {
                    if (failure == null) {
                        breaker.success();
                    } else {
                        breaker.failure();
                    }
                });
    }

    private Duration ttlOf(String name) {
        return named(name).map(CacheSettings.Named::ttl).orElse(settings.defaultTtl());
    }

    private Duration localOf(String name) {
        return named(name).map(CacheSettings.Named::local).orElse(Duration.ZERO);
    }

    private java.util.Optional<CacheSettings.Named> named(String name) {
        return java.util.Optional.ofNullable(settings.caches().get(name));
    }
}
