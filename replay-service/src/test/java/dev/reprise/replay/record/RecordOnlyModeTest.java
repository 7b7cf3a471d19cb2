package dev.reprise.replay.record;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reprise.events.BuildCompleted;
import dev.reprise.events.BuildOutput;
import dev.reprise.events.BuildStarted;
import dev.reprise.events.BuildStatus;
import dev.reprise.events.OutputStream;
import dev.reprise.events.Topics;
import dev.reprise.replay.TestAccess;
import dev.reprise.replay.store.RecordingIndex;
import dev.reprise.testing.RecordingWebSocket;
import dev.reprise.testing.RepriseInfrastructure;
import dev.reprise.testing.TestKafkaProducer;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/**
 * REPRISE_REPLAY_MODE=record-only, the rollout switch: builds are recorded, but no lookup is answered from
 * them (every build runs live) and no recording is replayed; a lookup that would have hit is counted.
 */
@QuarkusTest
@TestProfile(RecordOnlyModeTest.RecordOnly.class)
@WithTestResource(value = RepriseInfrastructure.class, initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis,s3"))
class RecordOnlyModeTest {

    public static class RecordOnly implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("reprise.cache.mode", "record-only");
        }
    }

    static {
        TestAccess.asTheGateway();
    }

    private static final Duration WAIT = Duration.ofSeconds(30);

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;
    @Inject
    ObjectMapper json;
    @Inject
    RecordingIndex index;
    @TestHTTPResource("/")
    URI base;

    @Test
    void buildsAreRecordedButNoneIsServedAndWouldBeHitsAreCounted() throws Exception {
        String tenant = "shadow-" + UUID.randomUUID().toString().substring(0, 8);
        String buildId = UUID.randomUUID().toString();
        String key = UUID.randomUUID().toString().replace("-", "") + "0".repeat(32);
        try (TestKafkaProducer producer = new TestKafkaProducer(bootstrap, json)) {
            producer.send(Topics.BUILD_EVENTS, buildId, buildId, 1, new BuildStarted(buildId, key, "r-1", Instant.now(), tenant,
                    "file:///app", "c".repeat(40), "make"));
            producer.send(Topics.BUILD_EVENTS, buildId, buildId, 2, new BuildOutput(buildId, OutputStream.STDOUT, "compiling\n", 10));
            producer.send(Topics.BUILD_EVENTS, buildId, buildId, 3, new BuildCompleted(buildId, key, BuildStatus.SUCCESS, 0, 70, null));
        }
        await().atMost(WAIT).until(() -> index.byBuildId(buildId).await().atMost(WAIT).isPresent());

        double shadowBefore = shadowHits();
        given().get("/api/v1/recordings/" + key + "?tenant=" + tenant).then().statusCode(404)
                .body("detail", containsString("replay mode is record-only"));
        given().get("/api/v1/recordings/" + key + "?tenant=someone-else").then().statusCode(404);
        assertThat(shadowHits()).as("the tenant's lookup would have hit; the other tenant's would not").isEqualTo(shadowBefore + 1);
        given().get("/api/v1/stats?tenant=" + tenant).then().statusCode(200).body("hits", equalTo(0)).body("misses", equalTo(1));
        assertThat(index.byCacheKey(key).await().atMost(WAIT).orElseThrow().accessCount()).as("not read").isZero();

        RecordingWebSocket replay = RecordingWebSocket.open(TestAccess.replay(base, key, "speed=0", tenant));
        assertThat(replay.awaitClose(WAIT)).isEqualTo(4404);
        assertThat(replay.messages()).isEmpty();
    }

    private static double shadowHits() {
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        return metrics.lines().filter(l -> l.startsWith("reprise_cache_shadow_hits_total{"))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }
}
