package dev.reprise.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.Test;

class CloudEventJsonTest {

    /** Configured like Quarkus's default ObjectMapper, plus strictness on unknown properties. */
    private final ObjectMapper json = new ObjectMapper()
            .registerModule(new JavaTimeModule())
            .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
            .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);

    @Test
    void buildOutputIsAStructuredCloudEventWithItsVersionedType() throws Exception {
        CloudEvent<BuildEvent> event = CloudEvent.of("/reprise/build-runner-service", "b-1", "b-1", 7,
                new BuildOutput("b-1", OutputStream.STDOUT, "line 3\n", 1250));

        JsonNode tree = json.readTree(json.writeValueAsString(event));

        assertThat(tree.get("specversion").asText()).isEqualTo("1.0");
        assertThat(tree.get("type").asText()).isEqualTo("dev.reprise.build.output.v1");
        assertThat(tree.get("source").asText()).isEqualTo("/reprise/build-runner-service");
        assertThat(tree.get("subject").asText()).isEqualTo("b-1");
        assertThat(tree.get("partitionkey").asText()).isEqualTo("b-1");
        assertThat(tree.get("seq").asLong()).isEqualTo(7);
        assertThat(tree.get("datacontenttype").asText()).isEqualTo("application/json");
        assertThat(tree.get("time").asText()).matches("\\d{4}-\\d\\d-\\d\\dT.*Z");
        assertThat(tree.get("data").get("chunk").asText()).isEqualTo("line 3\n");
        assertThat(tree.get("data").get("stream").asText()).isEqualTo("STDOUT");
        assertThat(tree.get("data").has("type")).as("the type lives in the envelope only").isFalse();
        assertThat(event.eventType()).isEqualTo("dev.reprise.build.output.v1");
    }

    @Test
    void everyFamilyRoundTripsThroughJson() throws Exception {
        Instant t = Instant.parse("2026-11-21T10:15:30Z");
        roundTrip(new TypeReference<CloudEvent<BuildRequestEvent>>() { },
                new BuildRequested("b-1", "t-1", "k", "https://example.org/r.git", "main", "a".repeat(40),
                        "maven", "mvn -B verify", Map.of("CI", "true"), false, t, 600));
        roundTrip(new TypeReference<CloudEvent<BuildEvent>>() { },
                new BuildCompleted("b-1", "k", BuildStatus.FAILURE, 1, 5000, "exit code 1"));
        roundTrip(new TypeReference<CloudEvent<CacheEvent>>() { },
                new RecordingStored("k", "b-1", "https://example.org/r.git", "a".repeat(40), "npm",
                        BuildStatus.SUCCESS, "recordings/k.gz", 512, 900, t));
        roundTrip(new TypeReference<CloudEvent<ImageEvent>>() { },
                new ImageBuilt("i-1", "h", "127.0.0.1:5000/reprise/h:1", "sha256:" + "b".repeat(64), 10, 20));
        roundTrip(new TypeReference<CloudEvent<ArtifactEvent>>() { },
                new CacheEntrySaved("t-1", "bazel", "ac/x", "c".repeat(64), 4));
    }

    @Test
    void anUnknownTypeIsRejectedNotSilentlyMisread() {
        String wire = """
                {"specversion":"1.0","id":"1","source":"/x","time":"2026-11-21T10:15:30Z","seq":1,
                 "type":"dev.reprise.build.output.v9","data":{"buildId":"b"}}""";
        assertThatThrownBy(() -> json.readValue(wire, new TypeReference<CloudEvent<BuildEvent>>() { }))
                .hasMessageContaining("dev.reprise.build.output.v9");
    }

    @Test
    void theEnvelopeRefusesAWrongSpecVersionOrSequence() {
        BuildStarted started = new BuildStarted("b", "k", "r", Instant.now(), "t", "file:///r", "a".repeat(40), "make");
        assertThatThrownBy(() -> new CloudEvent<>("0.3", "1", "/x", "b", Instant.now(), "application/json", "b", 1,
                started)).hasMessageContaining("specversion must be 1.0");
        assertThatThrownBy(() -> CloudEvent.of("/x", "b", "b", 0, started)).hasMessageContaining("seq starts at 1");
    }

    private <T extends ReprisePayload> void roundTrip(TypeReference<CloudEvent<T>> type, T payload) throws Exception {
        CloudEvent<T> sent = CloudEvent.of("/reprise/test", "s", "s", 1, payload);
        CloudEvent<T> received = json.readValue(json.writeValueAsBytes(sent), type);
        assertThat(received).isEqualTo(sent);
        assertThat(received.data()).isInstanceOf(payload.getClass());
    }
}
