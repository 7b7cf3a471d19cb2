package dev.reprise.image.messaging;

import dev.reprise.events.CloudEvent;
import dev.reprise.events.ImageEvent;
import dev.reprise.kafka.CloudEventPublisher;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.Record;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.reactive.messaging.Channel;

/** Publishes image build progress and results, keyed by dependency-set hash. */
@Singleton
public class ImageEventPublisher extends CloudEventPublisher<ImageEvent> {

    public ImageEventPublisher(@Channel("image-events") MutinyEmitter<Record<String, CloudEvent<ImageEvent>>> emitter) {
        super(emitter, "/reprise/image-cache-service");
    }
}
