package dev.reprise.replay.policy;

import dev.reprise.events.CacheEntryEvicted;
import dev.reprise.events.CacheInvalidated;
import dev.reprise.replay.messaging.CacheEventPublisher;
import dev.reprise.replay.store.ReadCounter;
import dev.reprise.replay.store.RecordingIndex;
import dev.reprise.replay.store.RecordingIndex.Removed;
import dev.reprise.replay.store.RecordingObjects;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import org.jboss.logging.Logger;

/**
 * Takes recordings out of the cache: the evictor (expired entries, and old ones rarely read) on
 * a schedule, and invalidation by key or repository on request. The index row goes first, so
 * no lookup can hit an entry whose object is being deleted; then the object; then a cache event.
 * An object whose delete fails is only an orphan in the bucket, never a broken hit.
 */
@ApplicationScoped
public class CacheRemovals {

    private static final Logger LOG = Logger.getLogger(CacheRemovals.class);
    private static final int BATCH = 500;

    private final RecordingIndex index;
    private final RecordingObjects objects;
    private final CacheEventPublisher events;
    private final CacheStats stats;
    private final CachePolicy policy;
    private final ReadCounter reads;

    public CacheRemovals(RecordingIndex index, RecordingObjects objects, CacheEventPublisher events, CacheStats stats,
            CachePolicy policy, ReadCounter reads) {
        this.reads = reads;
        this.index = index;
        this.objects = objects;
        this.events = events;
        this.stats = stats;
        this.policy = policy;
    }

    @Scheduled(every = "${reprise.cache.eviction-every:10m}", delayed = "30s",
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> scheduledSweep() {
        return sweep().onFailure().invoke(e -> LOG.warnf("Eviction sweep failed (%s); next sweep retries", e.getMessage()))
                .onFailure().recoverWithNull().replaceWithVoid();
    }

    /** Evicts everything the policy drops, in batches, then what exceeds the storage budget; the number of entries evicted. */
    public Uni<Integer> sweep() {
        return reads.flush().chain(() -> evictBatches())
                .chain(n -> policy.maxBytes().isEmpty() ? Uni.createFrom().item(n)
                        : fitBudget(policy.maxBytes().get().asLongValue()).map(more -> n + more));
    }

    /** Evicts the least valuable recordings until the store holds at most {@code budget} bytes; the number evicted. */
    public Uni<Integer> fitBudget(long budget) {
        return inBatches(() -> index.evictOverBudget(budget, BATCH));
    }

    private Uni<Integer> evictBatches() {
        return inBatches(() -> index.evict(policy.evictUnreadAfter(), policy.evictMinReads(), BATCH));
    }

    /** Removes batch after batch of what {@code next} takes out of the index until a batch is short; the number removed. */
    private Uni<Integer> inBatches(java.util.function.Supplier<Uni<List<Removed>>> next) {
        return next.get().flatMap(batch -> finish(batch).flatMap(n -> batch.size() < BATCH
                ? Uni.createFrom().item(n)
                : inBatches(next).map(more -> n + more)));
    }

    /** Takes out one key of a tenant; the number of entries removed (0 or 1). */
    public Uni<Integer> invalidateKey(String tenantId, String cacheKey, String reason) {
        return index.invalidateKey(tenantId, cacheKey).flatMap(removed -> announce("key", cacheKey, removed, reason));
    }

    /** Takes out every recording of a tenant's repository (normalized URL). */
    public Uni<Integer> invalidateRepository(String tenantId, String repository, String reason) {
        return index.invalidateRepository(tenantId, repository)
                .flatMap(removed -> announce("repository", repository, removed, reason));
    }

    /**
     * Takes out every recording of every tenant (after a runner image or tool upgrade the old ones
     * can only mislead), batch by batch; one {@code CacheInvalidated} of scope ALL when done.
     */
    public Uni<Integer> purgeAll(String reason) {
        return inBatches(() -> index.invalidateSome(BATCH)).call(n -> events.publish("*", "*", System.currentTimeMillis(),
                new CacheInvalidated("ALL", "*", n, reason)).onFailure().recoverWithNull())
                .invoke(n -> LOG.infof("Purged the whole cache: %d recording(s) (%s)", n, reason));
    }

    private Uni<Integer> announce(String scope, String value, List<Removed> removed, String reason) {
        return finish(removed).call(n -> events.publish(value, value, System.currentTimeMillis(),
                new CacheInvalidated(scope, value, n, reason)).onFailure().recoverWithNull());
    }

    /** Deletes the objects of entries already out of the index, and tells who listens. */
    private Uni<Integer> finish(List<Removed> removed) {
        if (removed.isEmpty()) {
            return Uni.createFrom().item(0);
        }
        return Multi.createFrom().iterable(removed)
                .onItem().transformToUniAndMerge(r -> objects.delete(r.objectKey())
                        .onFailure().invoke(e -> LOG.warnf("Recording object %s left behind (%s)", r.objectKey(), e.getMessage()))
                        .onFailure().recoverWithNull()
                        .invoke(() -> stats.removed(r.tenantId(), r.reason()))
                        .call(() -> "invalidated".equals(r.reason())
                                ? Uni.createFrom().voidItem()
                                : events.publish(r.cacheKey(), r.cacheKey(), System.currentTimeMillis(),
                                        new CacheEntryEvicted(r.cacheKey(), r.reason())).onFailure().recoverWithNull()
                                        .replaceWithVoid())
                        .replaceWith(r)) // a Multi drops null items: count the entries, not the deletes
                .collect().asList().map(List::size)
                .invoke(n -> LOG.infof("Removed %d recording(s) from the cache", n));
    }
}
