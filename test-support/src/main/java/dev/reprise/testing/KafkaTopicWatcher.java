package dev.reprise.testing;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Properties;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * Reads a topic from its current end, without a consumer group, so a test sees exactly what was
 * produced after it started watching and leaves no committed offsets behind.
 */
public final class KafkaTopicWatcher implements AutoCloseable {

    private final KafkaConsumer<String, String> consumer;
    private final String topic;
    /** Records polled but not yet looked at: a poll returns a batch, and an await stops at its first match. */
    private final java.util.ArrayDeque<ConsumerRecord<String, String>> unread = new java.util.ArrayDeque<>();

    public KafkaTopicWatcher(String bootstrapServers, String topic) {
        Properties props = new Properties();
        props.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        props.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        props.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        props.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        props.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, "10000");
        this.consumer = new KafkaConsumer<>(props);
        this.topic = topic;
        List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(10)).stream()
                .map(p -> new TopicPartition(topic, p.partition())).toList();
        if (partitions.isEmpty()) {
            throw new IllegalStateException("topic " + topic + " does not exist; `deploy/local/infra.sh up kafka` creates it");
        }
        consumer.assign(partitions);
        consumer.seekToEnd(partitions);
        partitions.forEach(consumer::position); // resolve the end now, before the test produces
    }

    /**
     * The first record after the previous await's match (or after the watch began) that matches,
     * or an AssertionError after {@code timeout}. Successive awaits see the topic in order: records
     * that came in the same batch as a match are kept for the next await.
     */
    public ConsumerRecord<String, String> await(Predicate<ConsumerRecord<String, String>> match, Duration timeout) {
        Instant deadline = Instant.now().plus(timeout);
        while (true) {
            while (!unread.isEmpty()) {
                ConsumerRecord<String, String> record = unread.poll();
                if (match.test(record)) {
                    return record;
                }
            }
            if (!Instant.now().isBefore(deadline)) {
                throw new AssertionError("no matching record on " + topic + " within " + timeout);
            }
            consumer.poll(Duration.ofMillis(200)).forEach(unread::add);
        }
    }

    /**
     * One record for each of {@code matches} (in any order), each the first after the watch began
     * that matches it, or an AssertionError naming how many were missing after {@code timeout}.
     */
    public List<ConsumerRecord<String, String>> awaitEach(List<Predicate<ConsumerRecord<String, String>>> matches,
            Duration timeout) {
        List<ConsumerRecord<String, String>> found = new java.util.ArrayList<>(java.util.Collections.nCopies(matches.size(), null));
        Instant deadline = Instant.now().plus(timeout);
        while (found.contains(null) && Instant.now().isBefore(deadline)) {
            consumer.poll(Duration.ofMillis(200)).forEach(unread::add);
            while (!unread.isEmpty()) {
                ConsumerRecord<String, String> record = unread.poll();
                for (int i = 0; i < matches.size(); i++) {
                    if (found.get(i) == null && matches.get(i).test(record)) {
                        found.set(i, record);
                    }
                }
            }
        }
        long missing = found.stream().filter(java.util.Objects::isNull).count();
        if (missing > 0) {
            throw new AssertionError(missing + " of " + matches.size() + " expected records not on " + topic + " within " + timeout);
        }
        return found;
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(2));
    }
}
