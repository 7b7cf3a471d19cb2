package dev.reprise.replay.messaging;

import dev.reprise.events.CloudEvent;
import dev.reprise.events.CacheEvent;
import dev.reprise.kafka.CloudEventPublisher;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.Record;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.reactive.messaging.Channel;

/** Publishes what happens to recordings, keyed by cache key. */
@Singleton
public class CacheEventPublisher extends CloudEventPublisher<CacheEvent> {

    public CacheEventPublisher(@Channel("cache-events") MutinyEmitter<Record<String, CloudEvent<CacheEvent>>> emitter) {
        super(emitter, "/reprise/replay-service");
    }
}
