package dev.reprise.replay.live;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reprise.events.BuildCompleted;
import dev.reprise.events.EventTypes;
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

    public LiveBuilds(ObjectMapper json,
            @ConfigProperty(name = "reprise.live.keep-completed", defaultValue = "10m") Duration keepCompleted,
            @ConfigProperty(name = "reprise.live.idle", defaultValue = "2h") Duration idle) {
        this.json = json;
        this.keepCompleted = keepCompleted;
        this.idle = idle;
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
            if (seq > 0) {
                stream(record.key()).accept(seq, record.value(), COMPLETED.equals(event.path("type").asText()));
            }
        } catch (IOException e) {
            LOG.warnf("Skipped an unreadable build event at %s-%d@%d", record.topic(), record.partition(), record.offset());
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
