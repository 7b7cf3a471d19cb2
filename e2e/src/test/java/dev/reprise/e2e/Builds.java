package dev.reprise.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reprise.e2e.Services.Answer;
import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/** Builds as a user requests and follows them through the gateway. */
final class Builds {

    static final Duration BUILD_TIMEOUT = Duration.ofSeconds(120);

    private Builds() {
    }

    /** The JSON body of a custom build of {@code repo} running {@code command}, plus {@code extra} fields. */
    static String body(String repo, String command, Map<String, Object> extra) {
        StringBuilder json = new StringBuilder("{\"repository\":\"" + repo + "\",\"ref\":\"main\",\"tool\":\"custom\","
                + "\"command\":\"" + command + "\"");
        extra.forEach((k, v) -> json.append(",\"").append(k).append("\":").append(v));
        return json.append('}').toString();
    }

    /** Requests a build; asserts it was accepted (202) and returns the answer's body. */
    static JsonNode request(String repo, String command, Map<String, Object> extra) throws IOException {
        Answer answer = Services.post("gateway", "/api/v1/builds", body(repo, command, extra));
        assertThat(answer.status()).as(String.valueOf(answer.body())).isEqualTo(202);
        assertThat(answer.body().path("cacheKey").asText()).matches("[0-9a-f]{64}");
        return answer.body();
    }

    /** Requests a build that must run live (a cache miss). */
    static JsonNode live(String repo, String command, Map<String, Object> extra) throws IOException {
        JsonNode build = request(repo, command, extra);
        assertThat(build.path("cached").asBoolean()).as("a live build, not a hit: " + build).isFalse();
        return build;
    }

    /** A live build that has finished and been recorded: the request's answer and the recorded messages. */
    record Recorded(JsonNode build, java.util.List<String> messages) {
        String buildId() {
            return build.path("buildId").asText();
        }

        String cacheKey() {
            return build.path("cacheKey").asText();
        }
    }

    /** Requests a build that must run live, waits until it finished and its recording is the key's. */
    static Recorded recorded(String repo, String command, Map<String, Object> extra) throws IOException {
        JsonNode build = live(repo, command, extra);
        String id = build.path("buildId").asText();
        awaitFinal(id);
        return new Recorded(build, awaitRecording(build.path("cacheKey").asText(), id));
    }

    /** A consumer of every partition of the build-events topic, positioned at its end: what is published from now on. */
    static KafkaConsumer<String, String> events() {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, System.getenv().getOrDefault("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092"));
        KafkaConsumer<String, String> consumer = new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer());
        List<TopicPartition> partitions = consumer.partitionsFor("reprise.build.events").stream()
                .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(consumer::position);
        return consumer;
    }

    /** Waits until the build is no longer queued or running; its final state. */
    static JsonNode awaitFinal(String id) {
        JsonNode[] last = new JsonNode[1];
        await().atMost(BUILD_TIMEOUT).pollInterval(Duration.ofMillis(300)).until(() -> {
            last[0] = Services.getAuthorized("gateway", "/api/v1/builds/" + id).body();
            String status = last[0].path("status").asText();
            return !status.equals("QUEUED") && !status.equals("RUNNING");
        });
        return last[0];
    }

    /** Waits until the key's recording is the one of build {@code buildId}; its messages (NDJSON lines). */
    static java.util.List<String> awaitRecording(String cacheKey, String buildId) {
        await().atMost(BUILD_TIMEOUT).pollInterval(Duration.ofMillis(300)).until(() -> {
            String first = Services.text("replay", "/api/v1/recordings/" + cacheKey + "/messages").lines().findFirst().orElse("");
            return first.contains("\"subject\":\"" + buildId + "\"");
        });
        try {
            return Services.text("replay", "/api/v1/recordings/" + cacheKey + "/messages").lines().toList();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
