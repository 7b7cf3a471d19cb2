package dev.reprise.replay.live;

import dev.reprise.replay.TestAccess;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reprise.events.BuildCompleted;
import dev.reprise.events.BuildEvent;
import dev.reprise.events.BuildOutput;
import dev.reprise.events.BuildStarted;
import dev.reprise.events.BuildStatus;
import dev.reprise.events.OutputStream;
import dev.reprise.events.Topics;
import dev.reprise.testing.RecordingWebSocket;
import dev.reprise.testing.RepriseInfrastructure;
import dev.reprise.testing.TestKafkaProducer;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The live socket fed from the real build-events topic. */
@QuarkusTest
@WithTestResource(value = RepriseInfrastructure.class, initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis,s3"))
class LiveStreamTest {

    @TestHTTPResource("/")
    URI base;
    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;
    @Inject
    ObjectMapper json;
    @Inject
    io.micrometer.core.instrument.MeterRegistry metrics;

    private TestKafkaProducer producer;
    private final String buildId = UUID.randomUUID().toString();

    @BeforeEach
    void producer() {
        producer = new TestKafkaProducer(bootstrap, json);
    }

    @AfterEach
    void close() {
        producer.close();
    }

    @Test
    void aClientGetsTheBacklogThenLiveEventsOnceEachInOrderThenANormalClose() throws Exception {
        List<String> sent = new ArrayList<>();
        sent.add(publish(1, new BuildStarted(buildId, "k", "runner", Instant.now(), "dev", "file:///r", "a".repeat(40), "make")));
        sent.add(publish(2, new BuildOutput(buildId, OutputStream.STDOUT, "one\n", 5)));
        RecordingWebSocket client = RecordingWebSocket.open(ws());
        await().atMost(Duration.ofSeconds(20)).until(() -> client.messages().size() == 2);
        // Whether the first two came as backlog or (racing the socket's opening) live, they are in: count from here.
        Thread.sleep(200);
        long delaysBefore = metrics.timer("reprise.live.delay").count();

        publish(2, new BuildOutput(buildId, OutputStream.STDOUT, "one\n", 5)); // a redelivery: dropped
        sent.add(publish(3, new BuildOutput(buildId, OutputStream.STDERR, "two\n", 9)));
        sent.add(publish(4, new BuildCompleted(buildId, "k", BuildStatus.SUCCESS, 0, 10, null)));

        assertThat(client.awaitClose(Duration.ofSeconds(20))).isEqualTo(1000);
        assertThat(client.messages()).as("exactly the published bytes, once, in order").isEqualTo(sent);
        // The two events sent to the waiting client are timed (not the dropped redelivery).
        // Timed as each is sent, which may finish just after the client saw the close.
        io.micrometer.core.instrument.Timer delay = metrics.timer("reprise.live.delay");
        await().atMost(Duration.ofSeconds(5)).until(() -> delay.count() - delaysBefore >= 2);
        Thread.sleep(200);
        assertThat(delay.count() - delaysBefore).isEqualTo(2);
    }

    @Test
    void aClientConnectingAfterTheEndGetsTheWholeStreamAndIsClosed() throws Exception {
        List<String> sent = List.of(
                publish(1, new BuildStarted(buildId, "k", "runner", Instant.now(), "dev", "file:///r", "a".repeat(40), "make")),
                publish(2, new BuildCompleted(buildId, "k", BuildStatus.FAILURE, 2, 10, "command exited with 2")));
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            RecordingWebSocket late = RecordingWebSocket.open(ws());
            assertThat(late.awaitClose(Duration.ofSeconds(10))).isEqualTo(1000);
            assertThat(late.messages()).isEqualTo(sent);
        });
    }

    @Test
    void anInvalidBuildIdIsClosedAsAPolicyViolation() throws Exception {
        RecordingWebSocket client = RecordingWebSocket.open(base.resolve("/ws/builds/not%20a%20build").toString().replace("http", "ws"));
        assertThat(client.awaitClose(Duration.ofSeconds(10))).isEqualTo(1008);
        assertThat(client.messages()).isEmpty();
    }

    private String ws() {
        return TestAccess.ws(base, "/ws/builds/" + buildId, "dev", dev.reprise.events.StreamTickets.build(buildId));
    }

    private String publish(long seq, BuildEvent event) throws Exception {
        return producer.publish(Topics.BUILD_EVENTS, buildId, buildId, seq, event);
    }
}
