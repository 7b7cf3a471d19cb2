package dev.reprise.runner.messaging;

import dev.reprise.events.BuildEvent;
import dev.reprise.runner.service.BuildEventSink;
import java.time.Duration;

/**
 * Numbers a build's events and publishes each before returning, so sequence order is send order
 * (one partition per build id keeps it) and output never runs ahead of what Kafka holds.
 */
public final class KafkaBuildEventSink implements BuildEventSink {

    private static final Duration ACK_TIMEOUT = Duration.ofSeconds(30);

    private final BuildEventPublisher publisher;
    private final String buildId;
    private long seq;

    /** @param lastSeq the last sequence number already used for this build (0 for a new build) */
    public KafkaBuildEventSink(BuildEventPublisher publisher, String buildId, long lastSeq) {
        this.publisher = publisher;
        this.buildId = buildId;
        this.seq = lastSeq;
    }

    @Override
    public synchronized void emit(BuildEvent event) {
        seq++;
        publisher.publish(buildId, buildId, seq, event).await().atMost(ACK_TIMEOUT);
    }
}
