package dev.reprise.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reprise.events.CloudEvent;
import dev.reprise.events.ReprisePayload;
import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringSerializer;

/** Publishes CloudEvents the way Reprise's producers do, waiting for the broker's ack. */
public final class TestKafkaProducer implements AutoCloseable {

    private final KafkaProducer<String, String> producer;
    private final ObjectMapper json;

    public TestKafkaProducer(String bootstrapServers, ObjectMapper json) {
        Properties props = new Properties();
        props.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        this.producer = new KafkaProducer<>(props, new StringSerializer(), new StringSerializer());
        this.json = json;
    }

    /** What was sent and where it landed. */
    public record Sent(String value, RecordMetadata metadata) {
    }

    /** Sends {@code payload} in an envelope with this key, subject and seq; returns the exact value sent. */
    public String publish(String topic, String key, String subject, long seq, ReprisePayload payload) throws Exception {
        return send(topic, key, subject, seq, payload).value();
    }

    /** Like {@link #publish}, also telling the partition and offset the record got. */
    public Sent send(String topic, String key, String subject, long seq, ReprisePayload payload) throws Exception {
        String value = json.writeValueAsString(CloudEvent.of("/reprise/test", subject, key, seq, payload));
        RecordMetadata metadata = producer.send(new ProducerRecord<>(topic, key, value)).get(10, TimeUnit.SECONDS);
        return new Sent(value, metadata);
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
    }
}
