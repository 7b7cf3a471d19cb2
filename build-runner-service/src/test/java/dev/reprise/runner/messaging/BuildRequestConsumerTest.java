package dev.reprise.runner.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.smallrye.mutiny.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** A failing request never reaches the channel (whose fail-stop would stop the runner taking builds). */
class BuildRequestConsumerTest {

    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    private final BuildRequestConsumer consumer = new BuildRequestConsumer(null, metrics);

    @Test
    void aStoreAwayIsWaitedOutAndTheRequestHandledAgain() {
        AtomicInteger attempts = new AtomicInteger();
        boolean handled = consumer.handleUntilTheStoresAnswer("b-1", () -> {
            if (attempts.incrementAndGet() == 1) {
                throw new IllegalStateException("could not publish the build's events", new TimeoutException());
            }
        });
        assertThat(handled).isTrue();
        assertThat(attempts).hasValue(2);
        assertThat(metrics.counter("reprise.events.skipped", "consumer", "build-requests").count()).isZero();
    }

    @Test
    void anyOtherFailureIsCountedAndTheRequestSkippedWithoutThrowing() {
        AtomicInteger attempts = new AtomicInteger();
        boolean handled = consumer.handleUntilTheStoresAnswer("b-2", () -> {
            attempts.incrementAndGet();
            throw new IllegalArgumentException("a value the store refuses");
        });
        assertThat(handled).isFalse();
        assertThat(attempts).hasValue(1);
        assertThat(metrics.counter("reprise.events.skipped", "consumer", "build-requests").count()).isEqualTo(1.0);
    }
}
