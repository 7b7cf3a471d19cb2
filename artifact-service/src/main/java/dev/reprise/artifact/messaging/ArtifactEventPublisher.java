package dev.reprise.artifact.messaging;

import dev.reprise.events.CloudEvent;
import dev.reprise.events.ArtifactEvent;
import dev.reprise.kafka.CloudEventPublisher;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.Record;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.reactive.messaging.Channel;

/** Publishes what happens in the content-addressed store, keyed by digest or cache key. */
@Singleton
public class ArtifactEventPublisher extends CloudEventPublisher<ArtifactEvent> {

    public ArtifactEventPublisher(@Channel("artifact-events") MutinyEmitter<Record<String, CloudEvent<ArtifactEvent>>> emitter) {
        super(emitter, "/reprise/artifact-service");
    }
}
