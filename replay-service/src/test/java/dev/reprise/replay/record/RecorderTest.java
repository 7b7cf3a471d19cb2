package dev.reprise.replay.record;

import dev.reprise.replay.TestAccess;
import static org.assertj.core.api.Assertions.assertThat;
import static io.restassured.RestAssured.given;
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
import dev.reprise.replay.store.RecordingIndex;
import dev.reprise.testing.RecordingWebSocket;
import dev.reprise.testing.RepriseInfrastructure;
import dev.reprise.testing.TestKafkaProducer;
import dev.reprise.testing.TestKafkaProducer.Sent;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The recorder against real Kafka, S3 and PostgreSQL. */
@QuarkusTest
@WithTestResource(value = RepriseInfrastructure.class, initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis,s3"))
class RecorderTest {

    static {
        // Every REST call here is one the gateway makes: with the service token.
        TestAccess.asTheGateway();
    }

    private static final Duration WAIT = Duration.ofSeconds(30);

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;
    @Inject
    ObjectMapper json;
    @Inject
    RecordedBuilds recorded;
    @Inject
    RecordingIndex index;
    @Inject
    dev.reprise.replay.store.RecordingObjects objects;

    private TestKafkaProducer producer;

    @BeforeEach
    void producer() {
        producer = new TestKafkaProducer(bootstrap, json);
    }

    @AfterEach
    void close() {
        producer.close();
    }

    @Test
    void aFinishedBuildIsRecordedExactlyAsPublishedOnceEachAndIndexed() throws Exception {
        String buildId = UUID.randomUUID().toString();
        String key = UUID.randomUUID().toString().replace("-", "") + "0".repeat(32);
        List<String> sent = new ArrayList<>();
        sent.add(publish(buildId, key, 1, new BuildStarted(buildId, key, "r-1", Instant.now(), "dev", "file:///app",
                "c".repeat(40), "make")).value());
        sent.add(publish(buildId, key, 2, new BuildOutput(buildId, OutputStream.STDOUT, "compiling\n", 10)).value());
        publish(buildId, key, 2, new BuildOutput(buildId, OutputStream.STDOUT, "compiling\n", 10)); // redelivered
        Thread.sleep(50);
        sent.add(publish(buildId, key, 3, new BuildOutput(buildId, OutputStream.STDERR, "warning ✓\n", 60)).value());
        sent.add(publish(buildId, key, 4, new BuildCompleted(buildId, key, BuildStatus.SUCCESS, 0, 70, null)).value());

        await().atMost(WAIT).until(() -> index.byBuildId(buildId).await().atMost(WAIT).isPresent());
        Recording recording = recorded.byBuildId(buildId).await().atMost(WAIT).orElseThrow();

        assertThat(recording.frames().stream().map(Recording.Frame::message).toList()).isEqualTo(sent);
        assertThat(recording.frames().get(0).offsetMs()).isZero();
        assertThat(recording.frames().get(2).offsetMs()).isGreaterThanOrEqualTo(recording.frames().get(1).offsetMs());
        assertThat(recording.header().cacheKey()).isEqualTo(key);
        assertThat(recording.header().repository()).isEqualTo("file:///app");
        assertThat(recording.header().commitSha()).isEqualTo("c".repeat(40));
        assertThat(recording.header().status()).isEqualTo("SUCCESS");
        RecordingIndex.Entry entry = index.byCacheKey(key).await().atMost(WAIT).orElseThrow();
        assertThat(entry.expiresAt()).isBetween(OffsetDateTime.now().plusDays(29), OffsetDateTime.now().plusDays(31));

        // A cache hit replays it over the same protocol, byte for byte.
        RecordingWebSocket instant = RecordingWebSocket.open(TestAccess.replay(base, key, "speed=0", "dev"));
        assertThat(instant.awaitClose(WAIT)).isEqualTo(1000);
        assertThat(instant.messages()).isEqualTo(sent);
        RecordingWebSocket paced = RecordingWebSocket.open(TestAccess.replay(base, key, "speed=2&maxGapMs=20", "dev"));
        assertThat(paced.awaitClose(WAIT)).isEqualTo(1000);
        assertThat(paced.messages()).isEqualTo(sent);
        given().get("/api/v1/recordings/" + key).then().statusCode(200)
                .body("buildId", equalTo(buildId)).body("label", equalTo("Fresh")).body("status", equalTo("SUCCESS"));
        given().get("/api/v1/recordings/" + key + "?tenant=someone-else").then().statusCode(404);
    }

    @Test
    void anUnreadableRecordingClosesWith1011AndIsAReplayErrorOfTheTicketsTenant() throws Exception {
        String tenant = "errors-" + UUID.randomUUID().toString().substring(0, 8);
        String buildId = UUID.randomUUID().toString();
        String key = UUID.randomUUID().toString().replace("-", "") + "0".repeat(32);
        publish(buildId, key, 1, new BuildStarted(buildId, key, "r-1", Instant.now(), tenant, "file:///app", "c".repeat(40), "make"));
        publish(buildId, key, 2, new BuildCompleted(buildId, key, BuildStatus.SUCCESS, 0, 70, null));
        await().atMost(WAIT).until(() -> index.byBuildId(buildId).await().atMost(WAIT).isPresent());
        // The stored object damaged before anyone read it: not gzip any more.
        objects.put(index.byCacheKey(key).await().atMost(WAIT).orElseThrow().objectKey(),
                "not a recording".getBytes(java.nio.charset.StandardCharsets.UTF_8)).await().atMost(WAIT);

        RecordingWebSocket replay = RecordingWebSocket.open(TestAccess.replay(base, key, "speed=0", tenant));
        assertThat(replay.awaitClose(WAIT)).isEqualTo(1011);
        assertThat(replay.messages()).isEmpty();

        given().get("/api/v1/stats?tenant=" + tenant).then().statusCode(200).body("replayErrors", equalTo(1))
                .body("replays", equalTo(0));
        given().get("/api/v1/stats?tenant=dev-" + tenant).then().statusCode(200).body("replayErrors", equalTo(0));
    }

    @Test
    void aClientThatBreaksTheConnectionMidReplayIsNotAReplayError() throws Exception {
        String tenant = "leaver-" + UUID.randomUUID().toString().substring(0, 8);
        String buildId = UUID.randomUUID().toString();
        String key = UUID.randomUUID().toString().replace("-", "") + "0".repeat(32);
        publish(buildId, key, 1, new BuildStarted(buildId, key, "r-1", Instant.now(), tenant, "file:///app", "c".repeat(40), "make"));
        publish(buildId, key, 2, new BuildOutput(buildId, OutputStream.STDOUT, "first\n", 10));
        Thread.sleep(1500); // the replay at speed 1 waits this long before the last message
        publish(buildId, key, 3, new BuildCompleted(buildId, key, BuildStatus.SUCCESS, 0, 1500, null));
        await().atMost(WAIT).until(() -> index.byBuildId(buildId).await().atMost(WAIT).isPresent());

        // Mid-replay: the corrupt frame arrives while the replay waits for its last message.
        breakConnection(TestAccess.replay(base, key, "speed=1", tenant), false, 2500);
        // With the handshake, on a key without a recording: whichever way the server drops it, no error is booked.
        breakConnection(TestAccess.replay(base, "d".repeat(64), "speed=1", tenant), true, 1000);
        given().get("/api/v1/stats?tenant=" + tenant).then().statusCode(200).body("replayErrors", equalTo(0));
    }

    @Test
    void badOrUnknownKeysAreRefused() throws Exception {
        RecordingWebSocket unknown = RecordingWebSocket.open(TestAccess.replay(base, "e".repeat(64), "", "dev"));
        assertThat(unknown.awaitClose(WAIT)).isEqualTo(4404);
        RecordingWebSocket badSpeed = RecordingWebSocket.open(TestAccess.replay(base, "e".repeat(64), "speed=-2", "dev"));
        assertThat(badSpeed.awaitClose(WAIT)).isEqualTo(1008);
        RecordingWebSocket badKey = RecordingWebSocket.open(TestAccess.replay(base, "not-a-key", "", "dev"));
        assertThat(badKey.awaitClose(WAIT)).isEqualTo(1008);
        given().get("/api/v1/recordings/not-a-key").then().statusCode(400).body("detail", containsString("64 lowercase hex"));
        given().get("/api/v1/recordings/" + "e".repeat(64)).then().statusCode(404);
    }

    @TestHTTPResource("/")
    URI base;


    @Test
    void aFailureIsKeptADayAndTimeoutsAndCancellationsAreNeverCached() throws Exception {
        String failed = record(BuildStatus.FAILURE);
        String timedOut = record(BuildStatus.TIMEOUT);
        String cancelled = record(BuildStatus.CANCELLED);

        await().atMost(WAIT).until(() -> index.byBuildId(failed).await().atMost(WAIT).isPresent());
        assertThat(index.byBuildId(failed).await().atMost(WAIT).orElseThrow().expiresAt())
                .isBetween(OffsetDateTime.now().plusHours(23), OffsetDateTime.now().plusHours(25));
        assertThat(index.byBuildId(timedOut).await().atMost(WAIT)).isEmpty();
        assertThat(index.byBuildId(cancelled).await().atMost(WAIT)).isEmpty();
    }

    /**
     * Opens {@code url} with a raw socket and sends a frame no WebSocket client sends (reserved opcode, unmasked),
     * which makes the server drop the connection: with the handshake ({@code pipelined}) or after its answer.
     */
    private static void breakConnection(String url, boolean pipelined, long thenWaitMs) throws Exception {
        URI ws = URI.create(url);
        byte[] handshake = ("GET " + ws.getRawPath() + "?" + ws.getRawQuery() + " HTTP/1.1\r\nHost: " + ws.getHost() + ":"
                + ws.getPort() + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                + "Sec-WebSocket-Version: 13\r\n\r\n").getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        byte[] corrupt = {(byte) 0x8B, 0x00};
        try (java.net.Socket socket = new java.net.Socket(ws.getHost(), ws.getPort())) {
            var out = socket.getOutputStream();
            if (pipelined) {
                byte[] both = java.util.Arrays.copyOf(handshake, handshake.length + corrupt.length);
                System.arraycopy(corrupt, 0, both, handshake.length, corrupt.length);
                out.write(both);
            } else {
                out.write(handshake);
            }
            out.flush();
            if (!pipelined) {
                byte[] answer = socket.getInputStream().readNBytes(12);
                assertThat(new String(answer, java.nio.charset.StandardCharsets.US_ASCII)).isEqualTo("HTTP/1.1 101");
                out.write(corrupt);
                out.flush();
            }
            Thread.sleep(thenWaitMs);
        }
    }

    /** Publishes a whole build ending in {@code status}; returns once the recorder committed past it. */
    private String record(BuildStatus status) throws Exception {
        String buildId = UUID.randomUUID().toString();
        String key = UUID.randomUUID().toString().replace("-", "") + "0".repeat(32);
        publish(buildId, key, 1, new BuildStarted(buildId, key, "r-1", Instant.now(), "dev", "file:///app", "c".repeat(40), "make"));
        Sent last = publish(buildId, key, 2, new BuildCompleted(buildId, key, status, null, 5, status.name()));
        awaitCommittedPast(last);
        return buildId;
    }

    private void awaitCommittedPast(Sent sent) {
        awaitCommittedPast(bootstrap, sent);
    }

    /** Returns once the recorder's consumer group (%test) committed past {@code sent}: it has handled it. */
    static void awaitCommittedPast(String bootstrap, Sent sent) {
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        TopicPartition partition = new TopicPartition(sent.metadata().topic(), sent.metadata().partition());
        try (Admin admin = Admin.create(props)) {
            await().atMost(WAIT).until(() -> {
                Map<TopicPartition, OffsetAndMetadata> offsets = admin.listConsumerGroupOffsets("replay-recorder-test")
                        .partitionsToOffsetAndMetadata().get();
                OffsetAndMetadata committed = offsets.get(partition);
                return committed != null && committed.offset() > sent.metadata().offset();
            });
        }
    }

    private Sent publish(String buildId, String key, long seq, dev.reprise.events.BuildEvent event) throws Exception {
        return producer.send(Topics.BUILD_EVENTS, buildId, buildId, seq, event);
    }
}
