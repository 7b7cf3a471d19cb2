package dev.reprise.artifact.service;

import dev.reprise.artifact.config.ArtifactConfig;
import dev.reprise.artifact.http.ArtifactException;
import dev.reprise.artifact.store.ArtifactIndex;
import dev.reprise.artifact.store.EntryReports;
import dev.reprise.artifact.store.BlobIndex;
import dev.reprise.artifact.store.BlobIndex.Doomed;
import dev.reprise.artifact.store.ArtifactIndex.Scope;
import dev.reprise.artifact.store.BlobObjects;
import dev.reprise.artifact.store.LocalBlobs;
import dev.reprise.events.ArtifactsInvalidated;
import dev.reprise.events.ArtifactsPruned;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * How entries leave the store. Invalidation and expiry soft-delete entries: they stop being hits
 * at once. Pruning soft-deletes least recently used entries until the store fits its budget. The
 * collector then frees the space: blobs no live entry points at are marked, their objects deleted,
 * their rows forgotten.
 */
@ApplicationScoped
public class Lifecycle {

    private static final Logger LOG = Logger.getLogger(Lifecycle.class);
    private static final int BATCH = 500;
    private static final int MARK_BATCH = 500;
    private static final int MAX_MARK_ROUNDS = 200;

    /** What a prune did. */
    public record Pruned(long entries, long bytesFreed, long storeBytes) {
    }

    /** What a collection did. */
    public record Collected(long blobs, long bytes) {
    }

    private final ArtifactIndex index;
    private final EntryReports reports;
    private final BlobIndex blobs;
    private final BlobObjects objects;
    private final LocalBlobs local;
    private final ArtifactConfig config;
    private final ArtifactMetrics metrics;
    private final Cas cas;
    private final StagedSaves staged;
    private final HitCache hits;

    public Lifecycle(ArtifactIndex index, EntryReports reports, BlobIndex blobs, BlobObjects objects, LocalBlobs local, ArtifactConfig config, ArtifactMetrics metrics,
            Cas cas, StagedSaves staged, HitCache hits) {
        this.index = index;
        this.reports = reports;
        this.blobs = blobs;
        this.objects = objects;
        this.local = local;
        this.config = config;
        this.metrics = metrics;
        this.cas = cas;
        this.staged = staged;
        this.hits = hits;
    }

    /** Hides a tenant's entries by key, key prefix or repository. @return how many */
    public Uni<Integer> invalidate(String tenantId, String protocol, Scope scope, String value) {
        // Saves acknowledged before the invalidation are in the index first, so none comes back after it.
        return staged.stored(tenantId, Duration.ofSeconds(30))
                .onFailure().transform(e -> new ArtifactException(503, "saves-pending", "saves acknowledged a moment ago are"
                        + " not stored yet (S3 or PostgreSQL is unavailable), and invalidating now could miss them; retry shortly"))
                .chain(() -> index.invalidate(tenantId, protocol, scope, value, "invalidated"))
                .invoke(count -> {
                    hits.forgetTenant(tenantId);
                    metrics.evictions("invalidated", count);
                    cas.publish(tenantId + "/invalidations", System.currentTimeMillis(), new ArtifactsInvalidated(tenantId, protocol,
                            scope.name().toLowerCase(Locale.ROOT), value, count));
                });
    }

    @Scheduled(every = "${reprise.artifact.lifecycle-every:10m}", delay = 1, concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> scheduled() {
        Uni<Pruned> pruned = config.budgetBytes().isPresent() ? prune(config.budgetBytes().getAsLong())
                : Uni.createFrom().item(new Pruned(0, 0, 0));
        return expire()
                .chain(() -> pruned)
                .chain(() -> collect(config.collectGrace()))
                .chain(() -> index.purgeDeletedEntries(config.keepDeletedEntries()))
                .chain(this::refreshGauges)
                .onFailure().invoke(e -> LOG.warnf("Artifact lifecycle run failed (%s); next run retries", e.toString()))
                .onFailure().recoverWithNull().replaceWithVoid();
    }

    @Scheduled(every = "${reprise.artifact.gauges-every:30s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> refreshGauges() {
        return blobs.storeTotals()
                .chain(totals -> index.entryCount().invoke(entries -> metrics.stored(totals.entries(), totals.bytes(), entries)))
                .chain(() -> reports.ages().invoke(metrics::ages))
                .chain(() -> reports.popular(10).invoke(metrics::popular))
                .replaceWithVoid()
                .onFailure().recoverWithNull();
    }

    /** Soft-deletes expired entries. @return how many */
    public Uni<Integer> expire() {
        return index.expire().invoke(digests -> {
            if (!digests.isEmpty()) {
                hits.clear();
                metrics.evictions("expired", digests.size());
                LOG.infof("Expired %d artifact entries", digests.size());
            }
        }).map(List::size);
    }

    /**
     * Removes least recently used entries until the store's live blobs fit {@code budget} bytes.
     * An entry sharing its blob with a live entry frees nothing, so removal goes on until the bytes
     * are really free.
     */
    public Uni<Pruned> prune(long budget) {
        AtomicLong entries = new AtomicLong();
        AtomicLong freed = new AtomicLong();
        return blobs.storeTotals().chain(totals -> pruneFrom(totals.bytes(), budget, entries, freed))
                .invoke(total -> {
                    if (entries.get() > 0) {
                        hits.clear();
                        metrics.evictions("pruned", entries.get());
                        LOG.infof("Pruned %d artifact entries (%d bytes) to fit the %d-byte budget", entries.get(), freed.get(), budget);
                        cas.publish("prune", System.currentTimeMillis(), new ArtifactsPruned(entries.get(), freed.get(), "size-budget"));
                    }
                })
                .chain(total -> collect(Duration.ZERO).replaceWith(new Pruned(entries.get(), freed.get(), total)));
    }

    private Uni<Long> pruneFrom(long total, long budget, AtomicLong entries, AtomicLong freed) {
        if (total <= budget) {
            return Uni.createFrom().item(total);
        }
        return index.leastRecentlyUsed(BATCH).chain(ids -> {
            if (ids.isEmpty()) {
                return Uni.createFrom().item(total);
            }
            AtomicLong remaining = new AtomicLong(total);
            return Multi.createFrom().iterable(ids)
                    .onItem().transformToUniAndConcatenate(id -> remaining.get() <= budget ? Uni.createFrom().voidItem()
                            : index.delete(id, "pruned").chain(digest -> {
                                if (digest.isEmpty()) {
                                    return Uni.createFrom().voidItem();
                                }
                                entries.incrementAndGet();
                                return blobs.markIfUnreferenced(digest.get(), Duration.ZERO).invoke(doomed -> doomed.ifPresent(d -> {
                                    remaining.addAndGet(-d.size());
                                    freed.addAndGet(d.size());
                                })).replaceWithVoid();
                            }))
                    .collect().last()
                    .chain(() -> pruneFrom(remaining.get(), budget, entries, freed));
        });
    }

    /** Marks blobs no live entry has pointed at for {@code grace}, then deletes marked blobs' objects. */
    public Uni<Collected> collect(Duration grace) {
        return mark(grace, MAX_MARK_ROUNDS).chain(() -> sweep(new Collected(0, 0)));
    }

    /** Marks in batches until none is left (bounded, so one run cannot go on for ever). */
    private Uni<Void> mark(Duration grace, int rounds) {
        return blobs.markUnreferenced(MARK_BATCH, grace)
                .chain(marked -> marked.size() < MARK_BATCH || rounds <= 1 ? Uni.createFrom().voidItem() : mark(grace, rounds - 1));
    }

    private Uni<Collected> sweep(Collected so) {
        return blobs.doomed(BATCH).chain(doomed -> {
            if (doomed.isEmpty()) {
                return Uni.createFrom().item(so);
            }
            AtomicLong bytes = new AtomicLong();
            return Multi.createFrom().iterable(doomed)
                    .onItem().transformToUni((Doomed d) -> {
                        boolean packed = d.objectKey() != null && BlobObjects.member(d.objectKey()).isPresent();
                        // A blob of its own: its object goes first, then its row. In a pack: the row first,
                        // then the pack, once no row names it.
                        Uni<Void> before = d.objectKey() == null || packed ? Uni.createFrom().voidItem() : objects.delete(d.objectKey());
                        return before
                                .chain(() -> Cas.blocking(() -> {
                                    local.forget(d.digest());
                                    return null;
                                }))
                                .chain(() -> blobs.forget(d))
                                .chain(() -> packed ? cas.release(d.objectKey()) : Uni.createFrom().voidItem())
                                .invoke(() -> bytes.addAndGet(d.size()));
                    })
                    .merge(8)
                    .collect().last()
                    .chain(() -> doomed.size() < BATCH ? Uni.createFrom().item(new Collected(so.blobs() + doomed.size(), so.bytes() + bytes.get()))
                            : sweep(new Collected(so.blobs() + doomed.size(), so.bytes() + bytes.get())));
        });
    }
}
