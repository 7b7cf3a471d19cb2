package dev.reprise.gateway.messaging;

import dev.reprise.events.BuildCancelRequested;
import dev.reprise.events.BuildRequestEvent;
import dev.reprise.events.BuildRequested;
import dev.reprise.events.CloudEvent;
import dev.reprise.kafka.CloudEventPublisher;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.Record;
import jakarta.inject.Singleton;
import org.eclipse.microprofile.reactive.messaging.Channel;

/** Publishes build requests keyed by cache key, so duplicates meet on one partition. */
@Singleton
public class BuildRequestPublisher extends CloudEventPublisher<BuildRequestEvent> {

    public BuildRequestPublisher(
            @Channel("build-requests") MutinyEmitter<Record<String, CloudEvent<BuildRequestEvent>>> emitter) {
        super(emitter, "/reprise/gateway-service");
    }

    /** A new request is the first event (seq 1) of its build. */
    public Uni<CloudEvent<BuildRequestEvent>> publish(BuildRequested request) {
        return publish(request.cacheKey(), request.buildId(), 1, request);
    }

    /** A cancel follows its request (seq 2), on the same partition (keyed by the cache key). */
    public Uni<CloudEvent<BuildRequestEvent>> cancel(String cacheKey, BuildCancelRequested cancel) {
        return publish(cacheKey, cancel.buildId(), 2, cancel);
    }
}
