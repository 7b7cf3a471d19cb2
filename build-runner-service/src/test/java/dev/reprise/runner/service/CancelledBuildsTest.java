package dev.reprise.runner.service;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class CancelledBuildsTest {

    @Test
    void aRememberedCancelIsTakenOnce() {
        CancelledBuilds cancelled = new CancelledBuilds(10);
        cancelled.remember("b-1", "cancelled by ci");

        assertThat(cancelled.take("b-1")).contains("cancelled by ci");
        assertThat(cancelled.take("b-1")).isEmpty();
        assertThat(cancelled.take("b-2")).isEmpty();
    }

    @Test
    void onlyTheMostRecentCancelsAreKept() {
        CancelledBuilds cancelled = new CancelledBuilds(2);
        cancelled.remember("b-1", "r1");
        cancelled.remember("b-2", "r2");
        cancelled.remember("b-3", "r3");

        assertThat(cancelled.take("b-1")).isEmpty();
        assertThat(cancelled.take("b-2")).contains("r2");
        assertThat(cancelled.take("b-3")).contains("r3");
    }
}
