package dev.reprise.runner.messaging;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reprise.events.Topics;
import io.smallrye.common.annotation.Identifier;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads back what was already published for a build. A runner that takes over a build whose
 * previous runner died needs the last sequence number used, so its closing event continues the
 * stream instead of colliding with it; the topic itself is the only exact record of that.
 */
@ApplicationScoped
public class BuildEventLog {

    private static final Duration POLL = Duration.ofMillis(200);
    private static final Duration READ_LIMIT = Duration.ofSeconds(30);

    private final Map<String, Object> kafkaConfig;
    private final ObjectMapper json;

    public BuildEventLog(@Identifier("default-kafka-broker") Map<String, Object> kafkaConfig, ObjectMapper json) {
        this.kafkaConfig = kafkaConfig;
        this.json = json;
    }

    /** The highest {@code seq} published for {@code buildId} since {@code since}; 0 when none. */
    public long lastSequence(String buildId, Instant since) {
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafkaConfig.get(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG));
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, "reprise-runner-recovery");
        try (KafkaConsumer<String, String> consumer =
                     new KafkaConsumer<>(config, new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(Topics.BUILD_EVENTS, READ_LIMIT).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            long from = since.minusSeconds(60).toEpochMilli();
            Map<TopicPartition, OffsetAndTimestamp> starts = consumer.offsetsForTimes(
                    partitions.stream().collect(Collectors.toMap(p -> p, p -> from)), READ_LIMIT);
            Map<TopicPartition, Long> ends = consumer.endOffsets(partitions, READ_LIMIT);
            for (TopicPartition partition : partitions) {
                OffsetAndTimestamp start = starts.get(partition);
                consumer.seek(partition, start == null ? ends.get(partition) : start.offset());
            }
            long last = 0;
            long deadline = System.nanoTime() + READ_LIMIT.toNanos();
            while (!caughtUp(consumer, ends) && System.nanoTime() < deadline) {
                for (ConsumerRecord<String, String> record : consumer.poll(POLL)) {
                    if (buildId.equals(record.key())) {
                        last = Math.max(last, sequenceOf(record.value()));
                    }
                }
            }
            return last;
        }
    }

    private static boolean caughtUp(KafkaConsumer<?, ?> consumer, Map<TopicPartition, Long> ends) {
        return ends.entrySet().stream().allMatch(e -> consumer.position(e.getKey()) >= e.getValue());
    }

    private long sequenceOf(String value) {
        try {
            JsonNode event = json.readTree(value);
            return event.path("seq").asLong(0);
        } catch (IOException e) {
            return 0;
        }
    }
}
