package dev.reprise.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.quarkus.redis.datasource.ReactiveRedisDataSource;
import io.quarkus.redis.runtime.datasource.ReactiveRedisDataSourceImpl;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.core.Vertx;
import io.vertx.mutiny.redis.client.Redis;
import io.vertx.mutiny.redis.client.RedisAPI;
import io.vertx.mutiny.redis.client.Response;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The cache layer against a real redis-server of the test's own (which it stops and restarts). */
class RedisCacheTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static RedisServer server;
    private static Vertx vertx;
    private final List<Redis> clients = new CopyOnWriteArrayList<>();
    private ReactiveRedisDataSource admin;

    @BeforeAll
    static void start() throws Exception {
        server = RedisServer.start();
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stop() throws Exception {
        server.close();
        vertx.closeAndAwait();
    }

    @BeforeEach
    void flush() {
        admin = dataSource();
        admin.execute("FLUSHALL").await().atMost(WAIT);
    }

    @Test
    void aMissLoadsAndStoresAndTheNextReadIsAHit() {
        RedisCache<Item> cache = caches(settings()).cache("items", Item.class);
        AtomicInteger loads = new AtomicInteger();

        Item first = cache.getOrLoad("a", () -> load(loads, new Item("a", 1))).await().atMost(WAIT);
        Item second = cache.getOrLoad("a", () -> load(loads, new Item("a", 2))).await().atMost(WAIT);

        assertThat(first).isEqualTo(new Item("a", 1));
        assertThat(second).as("served from Redis").isEqualTo(first);
        assertThat(loads).hasValue(1);
        assertThat(raw("test:cache:items:a")).as("signed for its key").matches("s1:[A-Za-z0-9_-]{43}:\\{\"id\":\"a\",\"version\":1}");
        assertThat(ttlMs("test:cache:items:a")).isBetween(1L, 60_000L);
        assertThat(cache.stats().hits()).isEqualTo(1);
        assertThat(cache.stats().misses()).isEqualTo(1);
        assertThat(cache.stats().hitRate()).isEqualTo(0.5);
        assertThat(cache.stats().health()).as("too few requests to judge").isEqualTo("warming");
        assertThat(cache.get("a").await().atMost(WAIT)).contains(first);
        assertThat(cache.getOrLoad("none", () -> Uni.createFrom().nullItem()).await().atMost(WAIT)).isNull();
        assertThat(raw("test:cache:items:none")).as("absent values are not cached").isNull();
    }

    @Test
    void aLocalTimeKeepsValuesInProcessAndWhatChangesThroughThisProcessTakesEffectAtOnce() throws Exception {
        RedisCache<Item> cache = caches(withLocal("items", Duration.ofMinutes(1), Duration.ofSeconds(1))).cache("items", Item.class);
        RedisCache<Item> elsewhere = caches(settings()).cache("items", Item.class); // another process, no local time
        AtomicInteger loads = new AtomicInteger();

        assertThat(cache.getOrLoad("a", () -> load(loads, new Item("a", 1))).await().atMost(WAIT).version()).isEqualTo(1);
        elsewhere.set("a", new Item("a", 2)).await().atMost(WAIT);
        assertThat(cache.getOrLoad("a", () -> load(loads, new Item("a", 9))).await().atMost(WAIT).version())
                .as("kept in memory: Redis not asked").isEqualTo(1);
        assertThat(cache.stats().localHits()).isEqualTo(1);
        assertThat(cache.stats().hits()).as("no Redis hit yet").isZero();
        // Another process's write reaches this one within the local time.
        await().atMost(Duration.ofSeconds(5)).until(() -> cache.getOrLoad("a", () -> load(loads, new Item("a", 9)))
                .await().atMost(WAIT).version() == 2);
        assertThat(cache.stats().hits()).isEqualTo(1);

        // Through this process: at once.
        cache.invalidate("a").await().atMost(WAIT);
        assertThat(cache.getOrLoad("a", () -> load(loads, new Item("a", 3))).await().atMost(WAIT).version()).isEqualTo(3);
        cache.set("a", new Item("a", 4)).await().atMost(WAIT);
        assertThat(cache.getOrLoad("a", () -> load(loads, new Item("a", 9))).await().atMost(WAIT).version()).isEqualTo(4);
        cache.evict("a").await().atMost(WAIT);
        assertThat(cache.getOrLoad("a", () -> load(loads, new Item("a", 5))).await().atMost(WAIT).version()).isEqualTo(5);
        assertThat(loads).as("loads: the first miss, after the invalidation, after the eviction").hasValue(3);
        // Absent values are not kept either.
        assertThat(cache.getOrLoad("none", () -> Uni.createFrom().nullItem()).await().atMost(WAIT)).isNull();
        assertThat(cache.getOrLoad("none", () -> load(loads, new Item("none", 1))).await().atMost(WAIT).version()).isEqualTo(1);
    }

    @Test
    void healthFollowsTheHitRateAndRedisSaysHowFullItIs() {
        RedisCaches caches = caches(settings());
        RedisCache<Item> hot = caches.cache("hot", Item.class);
        RedisCache<Item> cold = caches.cache("cold", Item.class);
        AtomicInteger loads = new AtomicInteger();
        for (int i = 0; i < 25; i++) {
            hot.getOrLoad("one", () -> load(loads, new Item("one", 1))).await().atMost(WAIT);
            cold.getOrLoad("k" + i, () -> load(loads, new Item("k", 1))).await().atMost(WAIT);
        }
        assertThat(hot.stats().health()).as("24 hits of 25").isEqualTo("healthy");
        assertThat(cold.stats().health()).as("every lookup a miss").isEqualTo("low-hit-rate");

        RedisCaches.Memory memory = caches.memory().await().atMost(WAIT).orElseThrow();
        assertThat(memory.usedBytes()).isPositive();
        assertThat(memory.maxBytes()).isGreaterThanOrEqualTo(0);
        assertThat(memory.policy()).isNotBlank();
        assertThat(memory.evictedKeys()).isGreaterThanOrEqualTo(0);
        assertThat(caches(settings(false, 524_288, Duration.ofMinutes(1))).memory().await().atMost(WAIT)).as("layer off").isEmpty();
    }

    @Test
    void aHundredConcurrentMissesOnOneKeyLoadOnceAcrossTwoInstances() throws Exception {
        // Redis calls get 2 s here, not 50 ms: this is about the shared load, and a call that times out on a loaded
        // machine (a cold JVM, 100 requests at once) is rightly a miss that loads again.
        CacheSettings patient = settings(true, 524_288, Duration.ofMinutes(1), Duration.ofSeconds(2), SECRET);
        RedisCache<Item> one = caches(patient).cache("items", Item.class);
        RedisCache<Item> two = caches(patient).cache("items", Item.class);
        AtomicInteger loads = new AtomicInteger();
        ExecutorService pool = Executors.newFixedThreadPool(16);
        try {
            List<Future<Item>> results = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                RedisCache<Item> instance = i % 2 == 0 ? one : two;
                results.add(pool.submit(() -> instance.getOrLoad("cold", () -> load(loads, new Item("cold", 7))
                        .onItem().delayIt().by(Duration.ofMillis(100))).await().atMost(WAIT)));
            }
            for (Future<Item> result : results) {
                assertThat(result.get(30, TimeUnit.SECONDS)).isEqualTo(new Item("cold", 7));
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(loads).as("the loader ran once for 100 concurrent misses on two instances").hasValue(1);
    }

    @Test
    void afterAWriteTheNextReadReturnsTheNewValueEvenWhenALoadRacedTheWrite() throws Exception {
        RedisCache<Item> cache = caches(settings()).cache("items", Item.class);
        AtomicReference<Item> source = new AtomicReference<>(new Item("k", 1));
        assertThat(cache.getOrLoad("k", () -> Uni.createFrom().item(source.get())).await().atMost(WAIT).version()).isEqualTo(1);

        source.set(new Item("k", 2));
        cache.invalidate("k").await().atMost(WAIT);
        assertThat(cache.getOrLoad("k", () -> Uni.createFrom().item(source.get())).await().atMost(WAIT).version()).isEqualTo(2);

        // A load that read version 2 before the write of version 3 must not leave 2 in the cache.
        RedisCache<Item> other = caches(settings()).cache("items", Item.class);
        cache.invalidate("k").await().atMost(WAIT);
        Thread.sleep(2_100); // past the tombstone: a cold key again
        Item beforeWrite = source.get();
        Uni<Item> slow = other.getOrLoad("k", () -> Uni.createFrom().item(beforeWrite).onItem().delayIt().by(Duration.ofMillis(300)));
        var pending = slow.subscribeAsCompletionStage();
        Thread.sleep(100);
        source.set(new Item("k", 3));
        cache.invalidate("k").await().atMost(WAIT);
        assertThat(pending.toCompletableFuture().get(5, TimeUnit.SECONDS).version()).isEqualTo(2);
        assertThat(cache.getOrLoad("k", () -> Uni.createFrom().item(source.get())).await().atMost(WAIT).version())
                .as("the racing load's old value was not stored").isEqualTo(3);
    }

    @Test
    void whenRedisDiesMidWorkloadEveryRequestStillAnswersAndCachingResumesByItself() throws Exception {
        RedisCaches caches = caches(settings());
        RedisCache<Item> cache = caches.cache("items", Item.class);
        Map<String, Item> source = new ConcurrentHashMap<>();
        for (int i = 0; i < 20; i++) {
            source.put("k" + i, new Item("k" + i, i));
        }
        ExecutorService pool = Executors.newFixedThreadPool(8);
        AtomicInteger wrong = new AtomicInteger();
        try {
            List<Future<?>> work = new ArrayList<>();
            for (int i = 0; i < 600; i++) {
                String key = "k" + (i % 20);
                if (i == 150) {
                    server.kill();
                }
                if (i == 400) {
                    server.restart();
                }
                work.add(pool.submit(() -> {
                    Item item = cache.getOrLoad(key, () -> Uni.createFrom().item(source.get(key))).await().atMost(Duration.ofSeconds(5));
                    if (!source.get(key).equals(item)) {
                        wrong.incrementAndGet();
                    }
                }));
                Thread.sleep(5);
            }
            for (Future<?> f : work) {
                f.get(30, TimeUnit.SECONDS); // none failed
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(wrong).as("answers that differ from the source").hasValue(0);
        assertThat(cache.stats().errors()).as("Redis errors are counted").isPositive();
        long hitsBefore = cache.stats().hits();
        await().atMost(WAIT).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
            assertThat(cache.getOrLoad("k1", () -> Uni.createFrom().item(source.get("k1"))).await().atMost(WAIT))
                    .isEqualTo(source.get("k1"));
            assertThat(cache.stats().hits()).as("hits again once Redis is back").isGreaterThan(hitsBefore + 1);
        });
        assertThat(caches.breakerState()).isEqualTo(CircuitBreaker.State.CLOSED);
    }

    @Test
    void anInvalidationThatCouldNotReachRedisIsReplayedBeforeThisInstanceReadsRedisAgain() throws Exception {
        RedisCaches caches = caches(settings());
        RedisCache<Item> cache = caches.cache("items", Item.class);
        AtomicReference<Item> source = new AtomicReference<>(new Item("k", 1));
        cache.getOrLoad("k", () -> Uni.createFrom().item(source.get())).await().atMost(WAIT);
        // Redis stalls (not gone: the old value is still there) while the source changes.
        admin.execute("CLIENT", "PAUSE", "1500", "ALL").await().atMost(WAIT);
        source.set(new Item("k", 2));
        cache.invalidate("k").await().atMost(WAIT);
        assertThat(caches.pendingInvalidations()).isEqualTo(1);
        assertThat(cache.getOrLoad("k", () -> Uni.createFrom().item(source.get())).await().atMost(WAIT).version())
                .as("while the invalidation is pending the source answers").isEqualTo(2);
        await().atMost(WAIT).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
            assertThat(cache.getOrLoad("k", () -> Uni.createFrom().item(source.get())).await().atMost(WAIT).version()).isEqualTo(2);
            assertThat(caches.pendingInvalidations()).isZero();
        });
        assertThat(raw("test:cache:items:k")).doesNotEndWith("{\"id\":\"k\",\"version\":1}");
    }

    @Test
    void warmingLoadsAKnownHotSetInTheBackgroundAndReturnsAtOnce() {
        // A warm-up write that misses the 50 ms budget is dropped, never retried (Redis only ever speeds lookups up):
        // on a loaded machine, as the first test of a cold JVM, it did (CI). Warming, not timeouts, is the subject here.
        RedisCache<Item> cache = caches(settings(true, 524_288, Duration.ofMinutes(1), Duration.ofSeconds(2))).cache("items", Item.class);
        AtomicInteger loads = new AtomicInteger();
        List<String> hot = List.of("h1", "h2", "h3");

        long start = System.nanoTime();
        cache.warm(hot, key -> load(loads, new Item(key, 1)).onItem().delayIt().by(Duration.ofSeconds(2)));
        assertThat(Duration.ofNanos(System.nanoTime() - start)).as("warm does not wait for the loads").isLessThan(Duration.ofSeconds(1));

        await().atMost(WAIT).untilAsserted(() -> {
            for (String key : hot) {
                assertThat(raw("test:cache:items:" + key)).endsWith(":{\"id\":\"" + key + "\",\"version\":1}");
            }
        });
        for (String key : hot) {
            assertThat(cache.getOrLoad(key, () -> load(loads, new Item(key, 2))).await().atMost(WAIT).version()).isEqualTo(1);
        }
        assertThat(loads).as("each hot key loaded once, by the warm-up").hasValue(3);
    }

    @Test
    void switchedOffTheLayerNeverCallsRedis() {
        RedisCache<Item> cache = caches(settings(false, 524_288, Duration.ofMinutes(5))).cache("items", Item.class);
        AtomicInteger loads = new AtomicInteger();
        for (int i = 0; i < 3; i++) {
            assertThat(cache.getOrLoad("a", () -> load(loads, new Item("a", 1))).await().atMost(WAIT)).isEqualTo(new Item("a", 1));
        }
        assertThat(loads).hasValue(3);
        assertThat(admin.execute("DBSIZE").await().atMost(WAIT).toLong()).isZero();
    }

    @Test
    void oversizeValuesAreNotCachedAndTheTtlExpiresEntries() throws Exception {
        RedisCache<Item> small = caches(settings(true, 40, Duration.ofMillis(300))).cache("items", Item.class);
        AtomicInteger loads = new AtomicInteger();
        small.getOrLoad("big", () -> load(loads, new Item("x".repeat(100), 1))).await().atMost(WAIT);
        small.getOrLoad("big", () -> load(loads, new Item("x".repeat(100), 1))).await().atMost(WAIT);
        assertThat(loads).as("a value over the size limit is loaded every time").hasValue(2);
        assertThat(small.stats().tooLarge()).isEqualTo(2);

        small.getOrLoad("short", () -> load(loads, new Item("s", 1))).await().atMost(WAIT);
        small.getOrLoad("short", () -> load(loads, new Item("s", 1))).await().atMost(WAIT);
        assertThat(loads).hasValue(3);
        Thread.sleep(400);
        small.getOrLoad("short", () -> load(loads, new Item("s", 1))).await().atMost(WAIT);
        assertThat(loads).as("reloaded after its TTL").hasValue(4);
    }

    @Test
    void patternInvalidationOfAHundredThousandKeysScansInBatchesWithoutBlockingOthers() throws Exception {
        RedisCache<Item> cache = caches(settings()).cache("items", Item.class);
        for (int batch = 0; batch < 100; batch++) {
            String[] pairs = new String[2000];
            for (int i = 0; i < 1000; i++) {
                pairs[2 * i] = "test:cache:items:bulk-" + (batch * 1000 + i);
                pairs[2 * i + 1] = "{\"id\":\"x\",\"version\":1}";
            }
            admin.execute("MSET", pairs).await().atMost(WAIT);
        }
        admin.execute("SET", "test:cache:other:keep", "1").await().atMost(WAIT);
        admin.execute("CONFIG", "RESETSTAT").await().atMost(WAIT);

        ReactiveRedisDataSource otherClient = dataSource();
        AtomicBoolean running = new AtomicBoolean(true);
        List<Long> pingMicros = new CopyOnWriteArrayList<>();
        Thread pinger = new Thread(() -> {
            while (running.get()) {
                long t = System.nanoTime();
                otherClient.execute("PING").await().atMost(WAIT);
                pingMicros.add((System.nanoTime() - t) / 1000);
            }
        });
        pinger.start();
        long removed = cache.invalidateMatching("bulk-*").await().atMost(Duration.ofMinutes(2));
        running.set(false);
        pinger.join();

        assertThat(removed).isEqualTo(100_000);
        assertThat(admin.execute("DBSIZE").await().atMost(WAIT).toLong()).as("only the other cache's key is left").isEqualTo(1);
        String commandStats = admin.execute("INFO", "commandstats").await().atMost(WAIT).toString();
        assertThat(commandStats).doesNotContain("cmdstat_keys:").contains("cmdstat_scan:", "cmdstat_unlink:");
        assertThat(pingMicros).as("another client was answered throughout").hasSizeGreaterThan(10);
        assertThat(pingMicros.stream().mapToLong(Long::longValue).max().orElseThrow())
                .as("no PING waited long behind the invalidation (µs)").isLessThan(250_000);
    }

    @Test
    void aValueWrittenStraightIntoRedisIsNotTrustedButAskedOfTheSource() {
        RedisCache<Item> cache = caches(settings()).cache("items", Item.class);
        AtomicInteger loads = new AtomicInteger();
        String wellFormedButForged = "s1:" + "A".repeat(43) + ":{\"id\":\"c\",\"version\":99}";
        Map<String, String> forged = Map.of("a", "{\"id\":\"a\",\"version\":99}", "b", "s1:short:{}", "c", wellFormedButForged);
        forged.forEach((key, value) -> admin.execute("SET", "test:cache:items:" + key, value).await().atMost(WAIT));

        for (String key : forged.keySet()) {
            assertThat(cache.getOrLoad(key, () -> load(loads, new Item(key, 1))).await().atMost(WAIT))
                    .as("the source's value, not the forged one").isEqualTo(new Item(key, 1));
            assertThat(cache.get(key).await().atMost(WAIT).filter(new Item(key, 99)::equals)).isEmpty();
        }
        assertThat(loads).hasValue(3);
        assertThat(cache.stats().refused()).isGreaterThanOrEqualTo(3);
        await().atMost(WAIT).untilAsserted(() -> {
            for (String key : forged.keySet()) {
                assertThat(raw("test:cache:items:" + key)).as("the forged value is gone").isNotEqualTo(forged.get(key));
            }
        });
    }

    @Test
    void aSignedValueCopiedToAnotherKeyIsRefused() {
        RedisCache<Item> cache = caches(settings()).cache("items", Item.class);
        AtomicInteger loads = new AtomicInteger();
        cache.getOrLoad("admin-grant", () -> load(loads, new Item("admin", 1))).await().atMost(WAIT);
        admin.execute("SET", "test:cache:items:other", raw("test:cache:items:admin-grant")).await().atMost(WAIT);
        admin.execute("SET", "test:cache:elsewhere:admin-grant", raw("test:cache:items:admin-grant")).await().atMost(WAIT);

        assertThat(cache.getOrLoad("other", () -> Uni.createFrom().nullItem()).await().atMost(WAIT))
                .as("another key's grant grants nothing here").isNull();
        RedisCache<Item> elsewhere = caches(settings()).cache("elsewhere", Item.class);
        assertThat(elsewhere.getOrLoad("admin-grant", () -> Uni.createFrom().nullItem()).await().atMost(WAIT))
                .as("nor in another cache").isNull();
        assertThat(cache.stats().refused()).isEqualTo(1);
        assertThat(elsewhere.stats().refused()).isEqualTo(1);
        assertThat(cache.getOrLoad("admin-grant", () -> load(loads, new Item("admin", 2))).await().atMost(WAIT))
                .as("the original is still a hit").isEqualTo(new Item("admin", 1));
        assertThat(loads).hasValue(1);
    }

    @Test
    void instancesWithTheSameSecretShareValuesAndOthersRefuseThem() {
        RedisCache<Item> writer = caches(settings()).cache("items", Item.class);
        RedisCache<Item> sameSecret = caches(settings()).cache("items", Item.class);
        RedisCache<Item> otherSecret = caches(settings(Optional.of("another-secret-of-16-chars"))).cache("items", Item.class);
        RedisCache<Item> noSecret = caches(settings(Optional.empty())).cache("items", Item.class);
        AtomicInteger loads = new AtomicInteger();
        writer.getOrLoad("k", () -> load(loads, new Item("k", 1))).await().atMost(WAIT);

        assertThat(sameSecret.getOrLoad("k", () -> load(loads, new Item("k", 2))).await().atMost(WAIT)).isEqualTo(new Item("k", 1));
        assertThat(loads).as("the same secret reads the other instance's value").hasValue(1);
        assertThat(otherSecret.getOrLoad("k", () -> load(loads, new Item("k", 3))).await().atMost(WAIT)).isEqualTo(new Item("k", 3));
        assertThat(otherSecret.stats().refused()).isEqualTo(1);

        // Without a secret a process trusts only what it wrote itself.
        RedisCaches processKey = caches(settings(Optional.empty()));
        RedisCache<Item> own = processKey.cache("items", Item.class);
        own.getOrLoad("p", () -> load(loads, new Item("p", 1))).await().atMost(WAIT);
        assertThat(own.getOrLoad("p", () -> load(loads, new Item("p", 2))).await().atMost(WAIT)).isEqualTo(new Item("p", 1));
        assertThat(noSecret.getOrLoad("p", () -> load(loads, new Item("p", 4))).await().atMost(WAIT)).isEqualTo(new Item("p", 4));
        assertThat(noSecret.stats().refused()).isEqualTo(1);
    }

    // --- helpers ---

    record Item(String id, int version) {
    }

    private static Uni<Item> load(AtomicInteger loads, Item item) {
        return Uni.createFrom().item(() -> {
            loads.incrementAndGet();
            return item;
        });
    }

    private String raw(String key) {
        Response r = admin.execute("GET", key).await().atMost(WAIT);
        return r == null ? null : r.toString();
    }

    private long ttlMs(String key) {
        return admin.execute("PTTL", key).await().atMost(WAIT).toLong();
    }

    private ReactiveRedisDataSource dataSource() {
        Redis redis = Redis.createClient(vertx, server.url());
        clients.add(redis);
        return new ReactiveRedisDataSourceImpl(vertx, redis, RedisAPI.api(redis));
    }

    /** A new "instance" of the layer: its own client, breaker and in-flight loads. */
    private RedisCaches caches(CacheSettings settings) {
        return new RedisCaches(dataSource(), settings, new ObjectMapper(), new SimpleMeterRegistry());
    }

    private static final Optional<String> SECRET = Optional.of("test-signing-secret-0123456789");

    private static CacheSettings settings() {
        return settings(true, 524_288, Duration.ofMinutes(1));
    }

    private static CacheSettings settings(Optional<String> secret) {
        return settings(true, 524_288, Duration.ofMinutes(1), Duration.ofMillis(50), secret);
    }

    private static CacheSettings settings(boolean enabled, int maxValueBytes, Duration ttl) {
        return settings(enabled, maxValueBytes, ttl, Duration.ofMillis(50));
    }

    private static CacheSettings settings(boolean enabled, int maxValueBytes, Duration ttl, Duration timeout) {
        return settings(enabled, maxValueBytes, ttl, timeout, SECRET);
    }

    private static CacheSettings settings(boolean enabled, int maxValueBytes, Duration ttl, Duration timeout,
            Optional<String> secret) {
        return settings(enabled, maxValueBytes, ttl, timeout, secret, Map.of());
    }

    /** Settings where cache {@code name} has its own TTL and local time. */
    private static CacheSettings withLocal(String name, Duration ttl, Duration local) {
        return settings(true, 524_288, Duration.ofMinutes(1), Duration.ofMillis(50), SECRET, Map.of(name, new CacheSettings.Named() {
            public Duration ttl() {
                return ttl;
            }

            public Duration local() {
                return local;
            }
        }));
    }

    private static CacheSettings settings(boolean enabled, int maxValueBytes, Duration ttl, Duration timeout,
            Optional<String> secret, Map<String, CacheSettings.Named> named) {
        return new CacheSettings() {
            public boolean enabled() {
                return enabled;
            }

            public Optional<String> signingSecret() {
                return secret;
            }

            public String prefix() {
                return "test";
            }

            public Duration timeout() {
                return timeout;
            }

            public Duration defaultTtl() {
                return ttl;
            }

            public int maxValueBytes() {
                return maxValueBytes;
            }

            public Duration tombstone() {
                return Duration.ofSeconds(2);
            }

            public Duration lockTtl() {
                return Duration.ofSeconds(5);
            }

            public Duration lockWait() {
                return Duration.ofMillis(500);
            }

            public int breakerFailures() {
                return 5;
            }

            public Duration breakerOpen() {
                return Duration.ofMillis(300);
            }

            public Map<String, Named> caches() {
                return named;
            }
        };
    }

}
