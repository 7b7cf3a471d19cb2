package dev.reprise.artifact.service;

import dev.reprise.artifact.store.ArtifactIndex;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * A hit refreshes its entry's last access, written in batches (every few seconds, one UPDATE)
 * rather than one write per GET, so lookups stay reads. LRU pruning needs no finer clock.
 */
@ApplicationScoped
public class AccessRecorder {

    private static final Logger LOG = Logger.getLogger(AccessRecorder.class);

    private final ArtifactIndex index;
    /** Hits since the last flush, by entry id. */
    private final ConcurrentHashMap<Long, Long> touched = new ConcurrentHashMap<>();

    public AccessRecorder(ArtifactIndex index) {
        this.index = index;
    }

    public void touched(long entryId) {
        touched.merge(entryId, 1L, Long::sum);
    }

    @Scheduled(every = "${reprise.artifact.access-flush-every:5s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    Uni<Void> scheduledFlush() {
        return flush();
    }

    /** Writes the accesses recorded so far; a failed write keeps them for the next flush. */
    public Uni<Void> flush() {
        if (touched.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        java.util.Map<Long, Long> batch = new java.util.HashMap<>();
        for (Long id : List.copyOf(touched.keySet())) {
            Long hits = touched.remove(id);
            if (hits != null) {
                batch.put(id, hits);
            }
        }
        return index.touch(batch).onFailure().invoke(e -> {
            LOG.warnf("Could not record %d cache accesses (%s); retrying", batch.size(), e.toString());
            batch.forEach((id, hits) -> touched.merge(id, hits, Long::sum));
        }).onFailure().recoverWithNull();
    }
}
