package dev.reprise.replay.bench;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reprise.replay.record.Recording;
import dev.reprise.replay.store.RecordingIndex;
import dev.reprise.testing.RepriseInfrastructure;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Benchmark (bench/run cache, never in the test suite): a warm recording lookup through the Redis
 * cache versus the same lookup straight from PostgreSQL, in process, against the real stores.
 */
@Tag("bench")
@QuarkusTest
@WithTestResource(value = RepriseInfrastructure.class, initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis,s3"))
class LookupBench {

    private static final int KEYS = 100;
    private static final int LOOKUPS = Integer.getInteger("bench.lookups", 20_000);

    @Inject
    RecordingIndex index;
    @Inject
    ObjectMapper json;
    @Inject
    io.quarkus.redis.datasource.ReactiveRedisDataSource redisClient;

    @Test
    void warmLookupThroughRedisVersusPostgres() throws Exception {
        List<String> keys = new ArrayList<>();
        for (int i = 0; i < KEYS; i++) {
            String key = UUID.randomUUID().toString().replace("-", "") + "0".repeat(32);
            index.upsert(new Recording.Header(Recording.FORMAT, key, UUID.randomUUID().toString(), "bench", "file:///bench",
                    "c".repeat(40), "make", "SUCCESS", 1000, 0, 0), "file:///bench", "bench/" + key, 100,
                    OffsetDateTime.now().plusDays(1)).await().atMost(Duration.ofSeconds(10));
            keys.add(key);
        }
        Thread.sleep(2_500); // past the write's tombstone: the keys may be cached again
        for (String key : keys) { // warm both paths
            index.hit(key, "bench").await().atMost(Duration.ofSeconds(5));
            index.byCacheKey(key).await().atMost(Duration.ofSeconds(5));
        }
        long[] redis = new long[LOOKUPS];
        long[] postgres = new long[LOOKUPS];
        long[] rawGet = new long[LOOKUPS];
        var raw = redisClient.value(String.class, String.class);
        for (String key : keys) { // the same JSON the cache holds, under keys nothing else touches
            raw.set("bench:raw:" + key, json.writeValueAsString(index.byCacheKey(key).await().atMost(Duration.ofSeconds(5)).orElseThrow()))
                    .await().atMost(Duration.ofSeconds(5));
        }
        for (int i = 0; i < LOOKUPS; i++) {
            String key = keys.get(i % KEYS);
            long t = System.nanoTime();
            assertThat(index.hit(key, "bench").await().atMost(Duration.ofSeconds(5))).isPresent();
            redis[i] = System.nanoTime() - t;
            t = System.nanoTime();
            assertThat(index.byCacheKey(key).await().atMost(Duration.ofSeconds(5))).isPresent();
            postgres[i] = System.nanoTime() - t;
            t = System.nanoTime();
            assertThat(raw.get("bench:raw:" + key).await().atMost(Duration.ofSeconds(5))).isNotNull();
            rawGet[i] = System.nanoTime() - t;
        }
        double redisRate = throughput(keys, k -> index.hit(k, "bench").replaceWithVoid());
        double postgresRate = throughput(keys, k -> index.byCacheKey(k).replaceWithVoid());
        String result = String.format(Locale.ROOT, """
                {"date":"%s","lookups":%d,"keys":%d,
                 "through_redis_us":{"p50":%.1f,"p99":%.1f,"max":%.1f},
                 "straight_from_postgres_us":{"p50":%.1f,"p99":%.1f,"max":%.1f},
                 "raw_redis_get_us":{"p50":%.1f,"p99":%.1f,"max":%.1f},
                 "concurrent_64_lookups_per_s":{"through_redis":%.0f,"straight_from_postgres":%.0f}}
                """, java.time.Instant.now(), LOOKUPS, KEYS, pct(redis, 50), pct(redis, 99), pct(redis, 100),
                pct(postgres, 50), pct(postgres, 99), pct(postgres, 100), pct(rawGet, 50), pct(rawGet, 99), pct(rawGet, 100),
                redisRate, postgresRate);
        Path out = Path.of(System.getProperty("bench.results", "target/bench-cache.json"));
        Files.createDirectories(out.toAbsolutePath().getParent());
        Files.writeString(out, result);
        System.out.print(result);
    }

    /** Lookups per second with 64 in flight at a time. */
    private static double throughput(List<String> keys, java.util.function.Function<String, io.smallrye.mutiny.Uni<Void>> lookup) {
        long t = System.nanoTime();
        io.smallrye.mutiny.Multi.createFrom().range(0, LOOKUPS)
                .onItem().transformToUni(i -> lookup.apply(keys.get(i % KEYS))).merge(64)
                .collect().last().await().atMost(Duration.ofMinutes(5));
        return LOOKUPS / ((System.nanoTime() - t) / 1e9);
    }

    private static double pct(long[] nanos, double p) {
        long[] sorted = nanos.clone();
        Arrays.sort(sorted);
        int i = (int) Math.ceil(p / 100 * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1000.0;
    }
}
