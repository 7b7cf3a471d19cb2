package dev.reprise.metrics;

import static org.assertj.core.api.Assertions.assertThat;

import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class LatencyHistogramsTest {

    @Test
    void httpAndRepriseTimersGetBucketsOthersDoNot() {
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        registry.config().meterFilter(new LatencyHistograms().latencyHistograms());

        Timer http = registry.timer("http.server.requests", "uri", "/api/v1/builds");
        http.record(Duration.ofMillis(30));
        Timer build = registry.timer("reprise.runner.build.duration", "status", "success");
        build.record(Duration.ofSeconds(90));
        Timer other = registry.timer("jvm.gc.pause");
        other.record(Duration.ofMillis(3));

        assertThat(http.takeSnapshot().histogramCounts()).hasSize(LatencyHistograms.BUCKETS.length);
        // 30 ms falls in the 50 ms bucket and every larger one.
        assertThat(http.takeSnapshot().histogramCounts()[3].count()).isEqualTo(1);
        assertThat(http.takeSnapshot().histogramCounts()[2].count()).isZero();
        assertThat(build.takeSnapshot().histogramCounts()[LatencyHistograms.BUCKETS.length - 2].count()).as("≤ 5 min").isEqualTo(1);
        assertThat(other.takeSnapshot().histogramCounts()).isEmpty();
    }
}
