package dev.reprise.replay.policy;

import dev.reprise.replay.store.RecordingIndex;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.concurrent.atomic.AtomicLong;

/** Recordings and bytes stored, as Prometheus gauges read from the index every half minute. */
@ApplicationScoped
public class StoredGauges {

    private final AtomicLong entries = new AtomicLong();
    private final AtomicLong bytes = new AtomicLong();
    private final RecordingIndex index;

    public StoredGauges(RecordingIndex index, MeterRegistry metrics, CachePolicy policy) {
        this.index = index;
        policy.maxBytes().ifPresent(budget -> Gauge.builder("reprise.cache.budget.bytes", budget, b -> b.asLongValue())
                .tag("store", "recordings").description("The recordings' storage budget (REPRISE_CACHE_MAX_BYTES)").baseUnit("bytes")
                .register(metrics));
        Gauge.builder("reprise.cache.entries", entries, AtomicLong::get).tag("store", "recordings")
                .description("Recordings in the cache index").register(metrics);
        Gauge.builder("reprise.cache.stored.bytes", bytes, AtomicLong::get).tag("store", "recordings")
                .description("Bytes of recordings stored").baseUnit("bytes").register(metrics);
    }

    @Scheduled(every = "${reprise.cache.gauges-every:30s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> refresh() {
        return index.totals(null).invoke(t -> {
            entries.set(t[0]);
            bytes.set(t[1]);
        }).onFailure().recoverWithNull().replaceWithVoid();
    }
}
