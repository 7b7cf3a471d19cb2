package dev.reprise.cache;

import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Stops calling a Redis that keeps failing: after {@code failures} consecutive errors it opens for
 * {@code openFor}; then one call at a time is let through (half-open) until one succeeds.
 */
public final class CircuitBreaker {

    /** The breaker's state, as the admin endpoint shows it. */
    public enum State { CLOSED, OPEN, HALF_OPEN }

    private final int failures;
    private final long openNanos;
    private final LongSupplier clock;
    private final AtomicInteger consecutive = new AtomicInteger();
    private final AtomicLong openedAt = new AtomicLong(-1);
    private final AtomicLong probeAt = new AtomicLong(-1);

    public CircuitBreaker(int failures, Duration openFor) {
        this(failures, openFor, System::nanoTime);
    }

    CircuitBreaker(int failures, Duration openFor, LongSupplier clock) {
        this.failures = failures;
        this.openNanos = openFor.toNanos();
        this.clock = clock;
    }

    /** Whether a call may go to Redis now. */
    public boolean allows() {
        long opened = openedAt.get();
        if (opened < 0) {
            return true;
        }
        long now = clock.getAsLong();
        if (now - opened < openNanos) {
            return false;
        }
        // Half-open: one probe per open period.
        long probe = probeAt.get();
        return (probe < 0 || now - probe >= openNanos) && probeAt.compareAndSet(probe, now);
    }

    public void success() {
        consecutive.set(0);
        openedAt.set(-1);
        probeAt.set(-1);
    }

    public void failure() {
        if (consecutive.incrementAndGet() >= failures || openedAt.get() >= 0) {
            openedAt.set(clock.getAsLong());
            probeAt.set(-1);
        }
    }

    public State state() {
        long opened = openedAt.get();
        if (opened < 0) {
            return State.CLOSED;
        }
        return clock.getAsLong() - opened < openNanos ? State.OPEN : State.HALF_OPEN;
    }
}
