package dev.reprise.runner.messaging;

import dev.reprise.events.BuildRequestEvent;
import dev.reprise.events.BuildRequested;
import dev.reprise.events.CloudEvent;
import dev.reprise.kafka.CloudEventPublisher;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.Record;
import jakarta.inject.Singleton;
import java.time.Duration;
import org.eclipse.microprofile.reactive.messaging.Channel;

/**
 * Puts a build request back at the end of the requests topic (keyed by cache key, as the gateway
 * keys it): a tenant over its share yields the slot to builds queued behind it. Completes once
 * the broker has the copy, so the original may be acknowledged without the request being lost.
 */
@Singleton
public class BuildRequestRequeuer extends CloudEventPublisher<BuildRequestEvent> {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    public BuildRequestRequeuer(@Channel("build-requests-requeued") MutinyEmitter<Record<String, CloudEvent<BuildRequestEvent>>> emitter) {
        super(emitter, "/reprise/build-runner-service");
    }

    public void requeue(BuildRequested request) {
        publish(request.cacheKey(), request.buildId(), 1, request).await().atMost(TIMEOUT);
    }
}
