package dev.reprise.replay.policy;

import dev.reprise.replay.TestAccess;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.equalTo;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reprise.replay.store.RecordingIndex;
import dev.reprise.replay.store.RecordingObjects;
import dev.reprise.testing.RepriseInfrastructure;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Recording lookups read through Redis, and a write is never followed by a stale read. */
@QuarkusTest
@WithTestResource(value = RepriseInfrastructure.class, initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis,s3"))
class RecordingLookupCacheTest {

    static {
        // Every REST call here is one the gateway makes: with the service token.
        TestAccess.asTheGateway();
    }

    @Inject
    RecordingIndex index;
    @Inject
    RecordingObjects objects;
    @Inject
    ObjectMapper json;
    @Inject
    dev.reprise.replay.store.ReadCounter reads;

    @Test
    void lookupsAreServedFromRedisAndAWriteIsSeenByTheNextLookup() {
        assertNoStaleReads(index, objects, json);

        // A written key is not cached for the tombstone's 2 s (a load racing the write cannot store
        // its old value); after that, repeated lookups are Redis hits.
        String tenant = "t-" + UUID.randomUUID();
        String key = UUID.randomUUID().toString().replace("-", "") + "0".repeat(32);
        TestRecordings.store(index, objects, json, key, UUID.randomUUID().toString(), tenant, "file:///srv/app", 100);
        long hitsBefore = recordingCache("hits");
        await().atMost(Duration.ofSeconds(10)).pollInterval(Duration.ofMillis(250)).untilAsserted(() -> {
            given().get("/api/v1/recordings/" + key + "?tenant=" + tenant).then().statusCode(200);
            assertThat(recordingCache("hits")).as("repeated lookups are Redis hits").isGreaterThan(hitsBefore + 1);
        });
        assertThat(cacheReport().getString("breaker")).isEqualTo("CLOSED");
        assertThat(cacheReport().getLong("redis.usedBytes")).as("Redis's memory in the report").isPositive();
        assertThat(cacheReport().getString("redis.policy")).isNotBlank();
        assertThat(cacheReport().getString("caches.find { it.name == 'recording' }.health")).isIn("warming", "healthy", "low-hit-rate");
    }

    @Test
    void theMostReadRecordingsAreWarmedIntoTheCache() {
        String tenant = "t-" + UUID.randomUUID();
        String popular = UUID.randomUUID().toString().replace("-", "") + "0".repeat(32);
        String unread = UUID.randomUUID().toString().replace("-", "") + "0".repeat(32);
        TestRecordings.store(index, objects, json, popular, UUID.randomUUID().toString(), tenant, "file:///srv/warm", 100);
        TestRecordings.store(index, objects, json, unread, UUID.randomUUID().toString(), tenant, "file:///srv/warm", 100);
        for (int i = 0; i < 500; i++) {
            reads.read(popular, index.byCacheKey(popular).await().atMost(Duration.ofSeconds(10)).orElseThrow().buildId());
        }
        reads.flush().await().atMost(Duration.ofSeconds(10));

        long requestsBefore = cacheRequests();
        java.util.List<String> warmed = index.warmHottest(1000).await().atMost(Duration.ofSeconds(10));
        assertThat(warmed).contains(popular).doesNotContain(unread);
        assertThat(warmed.indexOf(popular)).as("most read first").isLessThan(10);
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(cacheRequests())
                .as("the warm-up went through the cache").isGreaterThanOrEqualTo(requestsBefore + warmed.size()));
    }

    /** The same key's recording replaced, then invalidated: each lookup after a write sees it. */
    static void assertNoStaleReads(RecordingIndex index, RecordingObjects objects, ObjectMapper json) {
        String tenant = "t-" + UUID.randomUUID();
        String key = UUID.randomUUID().toString().replace("-", "") + "0".repeat(32);
        String first = UUID.randomUUID().toString();
        TestRecordings.store(index, objects, json, key, first, tenant, "file:///srv/app", 100);
        for (int i = 0; i < 3; i++) {
            given().get("/api/v1/recordings/" + key + "?tenant=" + tenant).then().statusCode(200).body("buildId", equalTo(first));
        }
        String fresh = UUID.randomUUID().toString(); // a fresh build's recording replaces the key's
        TestRecordings.store(index, objects, json, key, fresh, tenant, "file:///srv/app", 100);
        given().get("/api/v1/recordings/" + key + "?tenant=" + tenant).then().statusCode(200).body("buildId", equalTo(fresh))
                .body("reads", equalTo(1));
        given().delete("/api/v1/recordings/" + key + "?tenant=" + tenant).then().statusCode(200);
        given().get("/api/v1/recordings/" + key + "?tenant=" + tenant).then().statusCode(404);
    }

    /** This instance's Redis cache report ({@code /api/v1/admin/caches}). */
    static JsonPath cacheReport() {
        return given().get("/api/v1/admin/caches").then().statusCode(200).extract().jsonPath();
    }

    /** A counter of the recording cache in the report. */
    private static long cacheRequests() {
        return recordingCache("hits") + recordingCache("misses") + recordingCache("localHits");
    }

    static long recordingCache(String counter) {
        return cacheReport().getLong("caches.find { it.name == 'recording' }." + counter);
    }
}
