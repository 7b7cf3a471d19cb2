package dev.reprise.artifact.service;

import dev.reprise.artifact.http.ProvenanceHeaders;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/**
 * Dependency-cache lookups by result ({@code hit}: the exact key, {@code partial}: the newest entry of
 * the same repository and toolchain, {@code miss}) and their hit rate per repository, for seed
 * 004's dashboard and alert. The repository label is bounded: the {@code top} repositories with
 * the most lookups on this instance get a row each, the rest one row {@code other}; counts are
 * this instance's since it started.
 */
@ApplicationScoped
public class DependencyStats {

    public static final String OTHER = "other";
    /** Beyond this many distinct repositories, lookups are counted under {@link #OTHER} directly (memory stays bounded). */
    static final int TRACKED = 10_000;
    private static final List<String> RESULTS = List.of("hit", "partial", "miss");

    private final MeterRegistry registry;
    private final int top;
    private final Map<String, LongAdder[]> byRepository = new ConcurrentHashMap<>();
    private final MultiGauge hitRatio;
    private final MultiGauge lookups;

    public DependencyStats(MeterRegistry registry, dev.reprise.artifact.config.ArtifactConfig config) {
        this.registry = registry;
        this.top = config.dependencyTopRepositories();
        RESULTS.forEach(result -> counter(result));
        this.hitRatio = MultiGauge.builder("reprise_artifact_dependency_hit_ratio")
                .description("Dependency-cache lookups that restored something (hit or partial), per repository (top N, then other)")
                .register(registry);
        this.lookups = MultiGauge.builder("reprise_artifact_dependency_repository_lookups")
                .description("Dependency-cache lookups per repository (top N, then other) on this instance since it started")
                .register(registry);
    }

    /** One lookup of a repository's dependency cache; {@code repository} as the runner sent it (normalized here). */
    public void lookup(String repository, String result) {
        counter(result).increment();
        String label;
        try {
            label = ProvenanceHeaders.normalizedRepository(repository);
        } catch (RuntimeException e) {
            label = OTHER;
        }
        if (!byRepository.containsKey(label) && byRepository.size() >= TRACKED) {
            label = OTHER;
        }
        byRepository.computeIfAbsent(label, r -> new LongAdder[] {new LongAdder(), new LongAdder(), new LongAdder()})[RESULTS.indexOf(result)]
                .increment();
    }

    /** One row of {@link #rows}: a repository (or other) and its counts. */
    public record Row(String repository, long hits, long partials, long misses) {

        public long lookups() {
            return hits + partials + misses;
        }

        public double hitRatio() {
            return lookups() == 0 ? 0 : (double) (hits + partials) / lookups();
        }
    }

    /** The top repositories by lookups, then {@code other} for the rest. */
    public List<Row> rows() {
        List<Row> all = new ArrayList<>();
        byRepository.forEach((repository, counts) -> all.add(new Row(repository, counts[0].sum(), counts[1].sum(), counts[2].sum())));
        all.sort(Comparator.comparingLong(Row::lookups).reversed().thenComparing(Row::repository));
        List<Row> rows = new ArrayList<>();
        long[] rest = new long[3];
        for (Row row : all) {
            if (rows.size() < top && !row.repository().equals(OTHER)) {
                rows.add(row);
            } else {
                rest[0] += row.hits();
                rest[1] += row.partials();
                rest[2] += row.misses();
            }
        }
        if (rest[0] + rest[1] + rest[2] > 0) {
            rows.add(new Row(OTHER, rest[0], rest[1], rest[2]));
        }
        return rows;
    }

    @Scheduled(every = "${reprise.artifact.gauges-every:30s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void publish() {
        List<Row> rows = rows();
        hitRatio.register(rows.stream().map(r -> MultiGauge.Row.of(Tags.of("repository", r.repository()), r.hitRatio())).toList(), true);
        lookups.register(rows.stream().map(r -> MultiGauge.Row.of(Tags.of("repository", r.repository()), r.lookups())).toList(), true);
    }

    private Counter counter(String result) {
        return Counter.builder("reprise_artifact_dependency_lookups_total")
                .description("Dependency-cache lookups by result: hit (exact key), partial (newest of the repository and toolchain), miss")
                .tag("result", result).register(registry);
    }
}
