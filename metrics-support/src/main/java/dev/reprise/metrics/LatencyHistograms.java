package dev.reprise.metrics;

import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.config.MeterFilter;
import io.micrometer.core.instrument.distribution.DistributionStatisticConfig;
import jakarta.enterprise.inject.Produces;
import jakarta.inject.Singleton;
import java.time.Duration;

/**
 * Publishes latency histograms (Prometheus {@code _bucket} series) for HTTP server requests and
 * Reprise's own timers, with fixed buckets from 5 ms to 30 min, so p50/p99 can be computed across
 * instances with {@code histogram_quantile}. Quarkus publishes only sum, count and max otherwise.
 */
@Singleton
public class LatencyHistograms {

    static final Duration[] BUCKETS = {
        Duration.ofMillis(5), Duration.ofMillis(10), Duration.ofMillis(25), Duration.ofMillis(50), Duration.ofMillis(100),
        Duration.ofMillis(250), Duration.ofMillis(500), Duration.ofSeconds(1), Duration.ofMillis(2500), Duration.ofSeconds(5),
        Duration.ofSeconds(10), Duration.ofSeconds(30), Duration.ofSeconds(60), Duration.ofMinutes(5), Duration.ofMinutes(30)};

    @Produces
    @Singleton
    public MeterFilter latencyHistograms() {
        return new MeterFilter() {
            @Override
            public DistributionStatisticConfig configure(Meter.Id id, DistributionStatisticConfig config) {
                if (!wanted(id)) {
                    return config;
                }
                double[] slos = new double[BUCKETS.length];
                for (int i = 0; i < BUCKETS.length; i++) {
                    slos[i] = BUCKETS[i].toNanos();
                }
                return DistributionStatisticConfig.builder().serviceLevelObjectives(slos).build().merge(config);
            }
        };
    }

    static boolean wanted(Meter.Id id) {
        return id.getType() == Meter.Type.TIMER
                && (id.getName().equals("http.server.requests") || id.getName().startsWith("reprise."));
    }
}
