package dev.reprise.runner;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reprise.events.BuildCancelRequested;
import dev.reprise.events.BuildOutput;
import dev.reprise.events.BuildRequested;
import dev.reprise.events.BuildStarted;
import dev.reprise.events.OutputStream;
import dev.reprise.events.Topics;
import dev.reprise.testing.RepriseInfrastructure;
import dev.reprise.testing.TestGitRepo;
import dev.reprise.testing.TestKafkaProducer;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.inject.Inject;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The runner fed from the real requests topic, publishing to the real build-events topic. */
@QuarkusTest
@WithTestResource(value = RepriseInfrastructure.class, initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis"))
class RunnerPipelineTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;
    @Inject
    ObjectMapper json;
    @Inject
    Pool pool;

    private TestKafkaProducer producer;
    private KafkaConsumer<String, String> events;
    private final List<JsonNode> received = new CopyOnWriteArrayList<>();
    private Thread poller;
    private volatile boolean polling = true;

    @BeforeEach
    void kafka() throws Exception {
        producer = new TestKafkaProducer(bootstrap, json);
        Properties c = new Properties();
        c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        events = new KafkaConsumer<>(c, new StringDeserializer(), new StringDeserializer());
        List<TopicPartition> partitions = events.partitionsFor(Topics.BUILD_EVENTS).stream()
                .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
        events.assign(partitions);
        events.seekToEnd(partitions);
        partitions.forEach(events::position);
        poller = new Thread(() -> {
            while (polling) {
                for (ConsumerRecord<String, String> r : events.poll(Duration.ofMillis(100))) {
                    try {
                        received.add(json.readTree(r.value()));
                    } catch (IOException e) {
                        throw new IllegalStateException(e);
                    }
                }
            }
            events.close();
        });
        poller.start();
        warmUp();
    }

    @AfterEach
    void stop() throws InterruptedException {
        polling = false;
        poller.join(5000);
        producer.close();
    }

    @Test
    void aRequestIsBuiltOnceEvenWhenDeliveredTwice() throws Exception {
        String commit = repository("echo built");
        BuildRequested request = request(commit);

        send(request);
        await().atMost(WAIT).until(() -> completed(request.buildId()) != null);
        assertThat(completed(request.buildId()).path("data").path("status").asText()).isEqualTo("SUCCESS");
        // The completion event is published before the execution row is closed (at-least-once): await it.
        await().atMost(WAIT).untilAsserted(() -> assertThat(executionStatus(request.buildId())).isEqualTo("SUCCESS"));

        send(request); // at-least-once delivery: the same request again
        send(request(commit)); // and a different build, to know the duplicate was processed before it
        await().atMost(WAIT).until(() -> count("dev.reprise.build.completed.v1") == 3); // warm-up + 2
        assertThat(of(request.buildId(), "dev.reprise.build.started.v1")).as("not built twice").hasSize(1);
    }

    @Test
    void aBuildWhoseRunnerDiedIsReportedInterruptedContinuingItsSequence() throws Exception {
        String commit = repository("echo never runs");
        BuildRequested request = request(commit);
        // What a runner that died mid-build leaves behind: its claim, and the events it published.
        pool.preparedQuery("INSERT INTO executions (build_id, cache_key, runner_id, status) VALUES ($1, $2, 'gone-runner', 'RUNNING')")
                .execute(Tuple.of(request.buildId(), request.cacheKey())).await().atMost(Duration.ofSeconds(5));
        publishEvent(request.buildId(), 1, new BuildStarted(request.buildId(), request.cacheKey(), "gone-runner", Instant.now(),
                "dev", request.repository(), request.commitSha(), request.tool()));
        publishEvent(request.buildId(), 2, new BuildOutput(request.buildId(), OutputStream.STDOUT, "half\n", 3));

        send(request); // redelivered after the crash

        await().atMost(WAIT).until(() -> completed(request.buildId()) != null);
        JsonNode done = completed(request.buildId());
        assertThat(done.path("seq").asLong()).as("continues after the dead runner's last event").isEqualTo(3);
        assertThat(done.path("data").path("status").asText()).as("not the build's own failure: never cached").isEqualTo("INTERRUPTED");
        assertThat(done.path("data").path("reason").asText()).contains("runner gone-runner stopped during attempt 1");
        assertThat(of(request.buildId(), "dev.reprise.build.started.v1")).as("the old attempt's start only").hasSize(1);
        // The completion event is published before the execution row is closed (at-least-once): await it.
        await().atMost(WAIT).untilAsserted(() -> assertThat(executionStatus(request.buildId())).isEqualTo("INTERRUPTED"));
    }

    @Test
    void aBuildCancelledWhileQueuedIsReportedCancelledWithoutRunning() throws Exception {
        awaitCancelConsumerAssigned();
        String commit = repository("echo must not run");
        BuildRequested request = request(commit);

        producer.publish(Topics.BUILD_REQUESTS, request.cacheKey(), request.buildId(), 2,
                new BuildCancelRequested(request.buildId(), "dev", "cancelled by ci"));
        Thread.sleep(1000); // the cancel reaches every runner's broadcast consumer first
        send(request);

        await().atMost(WAIT).until(() -> completed(request.buildId()) != null);
        JsonNode done = completed(request.buildId());
        assertThat(done.path("data").path("status").asText()).isEqualTo("CANCELLED");
        assertThat(done.path("data").path("reason").asText()).isEqualTo("cancelled by ci");
        assertThat(of(request.buildId(), "dev.reprise.build.started.v1")).as("never started").isEmpty();
        // The completion event is published before the execution row is closed (at-least-once): await it.
        await().atMost(WAIT).untilAsserted(() -> assertThat(executionStatus(request.buildId())).isEqualTo("CANCELLED"));
    }

    // --- helpers ---

    @ConfigProperty(name = "quarkus.uuid")
    String instance;

    /** The cancel channel reads from the end of the topic: wait until it owns partitions. */
    private void awaitCancelConsumerAssigned() {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
        try (Admin admin = Admin.create(props)) {
            String group = "build-runner-cancels-" + instance;
            await().atMost(WAIT).until(() -> admin.describeConsumerGroups(List.of(group)).all().get()
                    .get(group).members().stream().anyMatch(m -> !m.assignment().topicPartitions().isEmpty()));
        }
    }

    private TestGitRepo repo;

    private void warmUp() throws Exception {
        String commit = repository("echo warm");
        // The test's consumer group starts at the end: resend until it is assigned and a build runs.
        await().atMost(WAIT).pollInterval(Duration.ofSeconds(2)).until(() -> {
            BuildRequested probe = request(commit);
            send(probe);
            return awaitQuietly(() -> completed(probe.buildId()) != null, 2);
        });
        received.clear();
        received.add(json.readTree("{\"type\":\"dev.reprise.build.completed.v1\",\"data\":{\"buildId\":\"warm-up\"}}"));
    }

    private static boolean awaitQuietly(java.util.concurrent.Callable<Boolean> condition, int seconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
        while (System.nanoTime() < deadline) {
            if (condition.call()) {
                return true;
            }
            Thread.sleep(100);
        }
        return false;
    }

    private BuildRequested request(String commit) {
        String id = UUID.randomUUID().toString();
        return new BuildRequested(id, "dev", UUID.randomUUID().toString().replace("-", "") + "0".repeat(32),
                repo.url(), "main", commit, "custom", "./build.sh", Map.of(), false, Instant.now(), 60);
    }

    private void send(BuildRequested request) throws Exception {
        producer.publish(Topics.BUILD_REQUESTS, request.cacheKey(), request.buildId(), 1, request);
    }

    private void publishEvent(String buildId, long seq, dev.reprise.events.BuildEvent event) throws Exception {
        producer.publish(Topics.BUILD_EVENTS, buildId, buildId, seq, event);
    }

    private JsonNode completed(String buildId) {
        List<JsonNode> done = of(buildId, "dev.reprise.build.completed.v1");
        return done.isEmpty() ? null : done.get(0);
    }

    private List<JsonNode> of(String buildId, String type) {
        List<JsonNode> result = new ArrayList<>();
        for (JsonNode e : received) {
            if (type.equals(e.path("type").asText()) && buildId.equals(e.path("data").path("buildId").asText())) {
                result.add(e);
            }
        }
        return result;
    }

    private long count(String type) {
        return received.stream().filter(e -> type.equals(e.path("type").asText())).count();
    }

    private String executionStatus(String buildId) {
        return pool.preparedQuery("SELECT status FROM executions WHERE build_id = $1").execute(Tuple.of(buildId))
                .await().atMost(Duration.ofSeconds(5)).iterator().next().getString("status");
    }

    private String repository(String script) throws Exception {
        if (repo == null) {
            repo = TestGitRepo.create();
        }
        return repo.commitBuildScript(script);
    }
}
