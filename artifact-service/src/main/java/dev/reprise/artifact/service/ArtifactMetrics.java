package dev.reprise.artifact.service;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The store's meters, named like the other caches' ({@code reprise_cache_*} with {@code cache} or
 * {@code store} = artifact), plus per-tenant hit and miss counts of this instance for the stats API.
 */
@ApplicationScoped
public class ArtifactMetrics {

    public static final List<String> PROTOCOLS = List.of("bazel-ac", "bazel-cas", "gradle", "maven", "ccache", "turbo", "nx", "actions", "deps");
    public static final String STORE = "artifact";

    /** Hits and misses of one tenant on this instance. */
    public record TenantCounts(long hits, long misses) {
    }

    private final MeterRegistry registry;
    private final Map<String, LongAdder[]> tenants = new ConcurrentHashMap<>();
    private final AtomicLong storedBytes = new AtomicLong();
    private final AtomicLong storedBlobs = new AtomicLong();
    private final AtomicLong entries = new AtomicLong();
    private final io.micrometer.core.instrument.MultiGauge ages;
    private final io.micrometer.core.instrument.MultiGauge popular;

    public ArtifactMetrics(MeterRegistry registry) {
        this.registry = registry;
        // Registered at zero so dashboards and alerts see the series before the first request.
        for (String protocol : PROTOCOLS) {
            for (String result : List.of("hit", "miss")) {
                requests(protocol, result);
            }
        }
        for (String reason : List.of("expired", "pruned", "invalidated")) {
            evictions(reason, 0);
        }
        for (String reason : List.of("corrupt", "missing")) {
            quarantinedCounter(reason);
        }
        for (String mismatch : List.of("size", "digest")) {
            localCopyRejectedCounter(mismatch);
        }
        transferred("in", 0);
        transferred("out", 0);
        registry.gauge("reprise_cache_stored_bytes", io.micrometer.core.instrument.Tags.of("store", STORE), storedBytes);
        registry.gauge("reprise_cache_entries", io.micrometer.core.instrument.Tags.of("store", STORE), entries);
        registry.gauge("reprise_artifact_blobs", storedBlobs);
        this.ages = io.micrometer.core.instrument.MultiGauge.builder("reprise_artifact_entry_age_seconds")
                .description("Age of live entries by protocol: stat=average or p90").baseUnit("seconds").register(registry);
        this.popular = io.micrometer.core.instrument.MultiGauge.builder("reprise_artifact_entry_accesses")
                .description("Hits of the store's most used live entries (top 10), by tenant, protocol and key").register(registry);
    }

    /** The age gauges, from the index. */
    public void ages(List<dev.reprise.artifact.store.EntryReports.Ages> byProtocol) {
        List<io.micrometer.core.instrument.MultiGauge.Row<?>> rows = new java.util.ArrayList<>();
        for (var a : byProtocol) {
            rows.add(io.micrometer.core.instrument.MultiGauge.Row.of(io.micrometer.core.instrument.Tags.of("protocol", a.protocol(),
                    "stat", "average"), a.averageSeconds()));
            rows.add(io.micrometer.core.instrument.MultiGauge.Row.of(io.micrometer.core.instrument.Tags.of("protocol", a.protocol(),
                    "stat", "p90"), a.p90Seconds()));
        }
        ages.register(rows, true);
    }

    /** The most-used-entries gauge, from the index (keys shortened to 64 characters). */
    public void popular(List<dev.reprise.artifact.store.EntryReports.Popular> entries) {
        popular.register(entries.stream().map(p -> io.micrometer.core.instrument.MultiGauge.Row.of(io.micrometer.core.instrument.Tags.of(
                "tenant", p.tenantId(), "protocol", p.protocol(), "key", p.key().length() > 64 ? p.key().substring(0, 64) : p.key()),
                p.accessCount())).<io.micrometer.core.instrument.MultiGauge.Row<?>>map(r -> r).toList(), true);
    }

    public void hit(String tenantId, String protocol) {
        requests(protocol, "hit").increment();
        tenant(tenantId)[0].increment();
    }

    public void miss(String tenantId, String protocol) {
        requests(protocol, "miss").increment();
        tenant(tenantId)[1].increment();
    }

    public TenantCounts counts(String tenantId) {
        LongAdder[] counts = tenants.get(tenantId);
        return counts == null ? new TenantCounts(0, 0) : new TenantCounts(counts[0].sum(), counts[1].sum());
    }

    public void evictions(String reason, long entries) {
        Counter.builder("reprise_cache_evictions_total").description("Cache entries removed, by store and reason")
                .tag("store", STORE).tag("reason", reason).register(registry).increment(entries);
    }

    public void quarantined(String reason) {
        quarantinedCounter(reason).increment();
    }

    /** A local (disk cache) copy that did not match its blob's size or digest and was dropped. */
    public void localCopyRejected(String mismatch) {
        localCopyRejectedCounter(mismatch).increment();
    }

    public void transferred(String direction, long bytes) {
        Counter.builder("reprise_artifact_transfer_bytes_total").description("Blob bytes received (in) and sent (out)")
                .tag("direction", direction).register(registry).increment(bytes);
    }

    public void stored(long blobs, long bytes, long liveEntries) {
        storedBlobs.set(blobs);
        storedBytes.set(bytes);
        entries.set(liveEntries);
    }

    private Counter quarantinedCounter(String reason) {
        return Counter.builder("reprise_artifact_quarantined_total").description("Blobs taken out of service, by reason")
                .tag("reason", reason).register(registry);
    }

    private Counter localCopyRejectedCounter(String mismatch) {
        return Counter.builder("reprise_artifact_local_copy_rejected_total")
                .description("Local disk-cache copies that did not match their blob's size or digest, dropped unserved")
                .tag("mismatch", mismatch).register(registry);
    }

    private Counter requests(String protocol, String result) {
        return Counter.builder("reprise_cache_requests_total").description("Cache lookups by cache and result")
                .tag("cache", STORE).tag("protocol", protocol).tag("result", result).register(registry);
    }

    private LongAdder[] tenant(String tenantId) {
        return tenants.computeIfAbsent(tenantId, t -> new LongAdder[] {new LongAdder(), new LongAdder()});
    }
}
