package dev.reprise.runner.messaging;

import dev.reprise.events.CloudEvent;
import dev.reprise.events.BuildEvent;
import dev.reprise.kafka.CloudEventPublisher;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.Record;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.reactive.messaging.Channel;

/** Publishes a build's events keyed by build id, so one build's events stay ordered on one partition. */
@Singleton
public class BuildEventPublisher extends CloudEventPublisher<BuildEvent> {

    public BuildEventPublisher(@Channel("build-events") MutinyEmitter<Record<String, CloudEvent<BuildEvent>>> emitter) {
        super(emitter, "/reprise/build-runner-service");
    }
}
