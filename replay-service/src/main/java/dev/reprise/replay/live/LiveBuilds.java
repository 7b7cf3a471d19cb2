package dev.reprise.replay.live;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reprise.events.BuildCompleted;
import dev.reprise.events.EventTypes;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Multi;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * The live side of build streaming. Every replay instance reads all build events (a consumer
 * group of its own, starting a look-back window in the past), so any instance can serve any
 * build's socket, including to a client that connects late.
 */
@ApplicationScoped
public class LiveBuilds {

    private static final Logger LOG = Logger.getLogger(LiveBuilds.class);
    private static final String COMPLETED = EventTypes.typeOf(BuildCompleted.class);

    private final Map<String, BuildStream> streams = new ConcurrentHashMap<>();
    private final ObjectMapper json;
    private final Duration keepCompleted;
    private final Duration idle;
    /**
     * From the event's creation at the runner to its delivery to the live sockets following the
     * build; only events some client was waiting for are timed (not backlog or look-back catch-up).
     */
    private final Timer liveDelay;

    public LiveBuilds(ObjectMapper json, MeterRegistry metrics,
            @ConfigProperty(name = "reprise.live.keep-completed", defaultValue = "10m") Duration keepCompleted,
            @ConfigProperty(name = "reprise.live.idle", defaultValue = "2h") Duration idle) {
        this.json = json;
        this.keepCompleted = keepCompleted;
        this.idle = idle;
        this.liveDelay = Timer.builder("reprise.live.delay")
                .description("Runner event time to its delivery to live WebSocket streams (through Kafka)").register(metrics);
    }

    /** The build's messages from the first, then live ones; completes after BuildCompleted. */
    public Multi<String> follow(String buildId) {
        return Multi.createFrom().emitter(emitter -> stream(buildId).subscribe(emitter));
    }

    /** True when this instance holds the build's live stream (running, or finished recently). */
    public boolean isKnown(String buildId) {
        return streams.containsKey(buildId);
    }

    @Incoming("live-build-events")
    public void onEvent(ConsumerRecord<String, String> record) {
        if (record.key() == null || record.value() == null) {
            return;
        }
        try {
            JsonNode event = json.readTree(record.value());
            long seq = event.path("seq").asLong(0);
            if (seq > 0 && stream(record.key()).accept(seq, record.value(), COMPLETED.equals(event.path("type").asText())) > 0) {
                recordDelay(event.path("time").asText(null));
            }
        } catch (IOException e) {
            LOG.warnf("Skipped an unreadable build event at %s-%d@%d", record.topic(), record.partition(), record.offset());
        }
    }

    private void recordDelay(String time) {
        if (time == null) {
            return;
        }
        try {
            long ms = System.currentTimeMillis() - java.time.Instant.parse(time).toEpochMilli();
            if (ms >= 0) {
                liveDelay.record(Duration.ofMillis(ms));
            }
        } catch (java.time.format.DateTimeParseException e) {
            // an event without a readable time is still delivered, just not measured
        }
    }

    @Scheduled(every = "60s")
    void evict() {
        long now = System.currentTimeMillis();
        streams.entrySet().removeIf(e -> {
            boolean expired = e.getValue().expired(now, keepCompleted.toMillis(), idle.toMillis());
            if (expired) {
                e.getValue().close();
            }
            return expired;
        });
    }

    private BuildStream stream(String buildId) {
        return streams.computeIfAbsent(buildId, id -> new BuildStream());
    }
}
