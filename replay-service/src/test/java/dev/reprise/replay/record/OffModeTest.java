package dev.reprise.replay.record;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reprise.events.BuildCompleted;
import dev.reprise.events.BuildStarted;
import dev.reprise.events.BuildStatus;
import dev.reprise.events.Topics;
import dev.reprise.replay.TestAccess;
import dev.reprise.replay.store.RecordingIndex;
import dev.reprise.testing.RepriseInfrastructure;
import dev.reprise.testing.TestKafkaProducer;
import dev.reprise.testing.TestKafkaProducer.Sent;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/** REPRISE_REPLAY_MODE=off: the recorder consumes build events and records nothing; no lookup hits. */
@QuarkusTest
@TestProfile(OffModeTest.Off.class)
@WithTestResource(value = RepriseInfrastructure.class, initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis,s3"))
class OffModeTest {

    public static class Off implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("reprise.cache.mode", "off");
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

    @Test
    void nothingIsRecordedAndNothingHits() throws Exception {
        String buildId = UUID.randomUUID().toString();
        String key = UUID.randomUUID().toString().replace("-", "") + "0".repeat(32);
        Sent last;
        try (TestKafkaProducer producer = new TestKafkaProducer(bootstrap, json)) {
            producer.send(Topics.BUILD_EVENTS, buildId, buildId, 1, new BuildStarted(buildId, key, "r-1", Instant.now(), "dev",
                    "file:///app", "c".repeat(40), "make"));
            last = producer.send(Topics.BUILD_EVENTS, buildId, buildId, 2, new BuildCompleted(buildId, key, BuildStatus.SUCCESS, 0, 70, null));
        }
        RecorderTest.awaitCommittedPast(bootstrap, last); // the recorder has handled the whole build
        assertThat(index.byBuildId(buildId).await().atMost(WAIT)).as("not recorded").isEmpty();
        given().get("/api/v1/recordings/" + key + "?tenant=dev").then().statusCode(404)
                .body("detail", containsString("replay mode is off"));
    }
}
