package dev.reprise.cache;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class CircuitBreakerTest {

    private final AtomicLong now = new AtomicLong(1_000);
    private final CircuitBreaker breaker = new CircuitBreaker(3, Duration.ofSeconds(5), now::get);

    @Test
    void opensAfterConsecutiveFailuresAndLetsOneProbeThroughAfterTheOpenPeriod() {
        breaker.failure();
        breaker.failure();
        assertThat(breaker.allows()).as("two failures: still closed").isTrue();
        breaker.failure();
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
        assertThat(breaker.allows()).isFalse();

        now.addAndGet(Duration.ofSeconds(5).toNanos());
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.HALF_OPEN);
        assertThat(breaker.allows()).as("one probe").isTrue();
        assertThat(breaker.allows()).as("only one").isFalse();

        breaker.failure(); // the probe failed: open again
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.OPEN);
        now.addAndGet(Duration.ofSeconds(5).toNanos());
        assertThat(breaker.allows()).isTrue();
        breaker.success();
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
        assertThat(breaker.allows()).isTrue();
        assertThat(breaker.allows()).isTrue();
    }

    @Test
    void aSuccessResetsTheCount() {
        breaker.failure();
        breaker.failure();
        breaker.success();
        breaker.failure();
        breaker.failure();
        assertThat(breaker.state()).isEqualTo(CircuitBreaker.State.CLOSED);
    }
}
