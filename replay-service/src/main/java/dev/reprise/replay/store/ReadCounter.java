package dev.reprise.replay.store;

import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.jboss.logging.Logger;

/**
 * Reads of recordings, counted in memory and added to the index every few seconds: a hit then
 * costs one Redis read instead of a PostgreSQL write. A crash loses at most those seconds of read
 * counts (which only steer eviction and refresh), never a recording.
 */
@ApplicationScoped
public class ReadCounter {

    private static final Logger LOG = Logger.getLogger(ReadCounter.class);

    private static final char SEPARATOR = '/';

    /** Unwritten reads by cache key and build id ("key/build"). */
    private final Map<String, LongAdder> pending = new ConcurrentHashMap<>();
    private final Pool pool;
    private volatile Consumer<List<String>> onFlushed = keys -> { };

    public ReadCounter(Pool pool) {
        this.pool = pool;
    }

    /**
     * Counts a read of the key's recording of {@code buildId}; the reads of it not yet written.
     * Counts belong to one recording: when a fresh build's recording replaces the key's, reads of
     * the old one counted or written late can never land on the new row.
     */
    public long read(String cacheKey, String buildId) {
        LongAdder count = pending.computeIfAbsent(cacheKey + SEPARATOR + buildId, k -> new LongAdder());
        count.increment();
        return count.sum();
    }

    /** Drops the key's unwritten reads: its recording was replaced, and the new one starts at zero. */
    public void forget(String cacheKey) {
        pending.keySet().removeIf(k -> k.startsWith(cacheKey + SEPARATOR));
    }

    /** Called with the keys whose counts were written (the index drops their cached copies). */
    void onFlushed(Consumer<List<String>> listener) {
        this.onFlushed = listener;
    }

    /** Adds the pending reads to the index (access count, last access). */
    @Scheduled(every = "${reprise.cache.reads-flush-every:5s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    public Uni<Void> flush() {
        List<Tuple> batch = new ArrayList<>();
        for (Map.Entry<String, LongAdder> e : pending.entrySet()) {
            long n = e.getValue().sumThenReset();
            if (n > 0) {
                int cut = e.getKey().indexOf(SEPARATOR);
                batch.add(Tuple.of(e.getKey().substring(0, cut), n, e.getKey().substring(cut + 1)));
            } else {
                pending.remove(e.getKey(), e.getValue());
            }
        }
        if (batch.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return pool.preparedQuery("UPDATE recordings SET access_count = access_count + $2, last_access_at = now()"
                        + " WHERE cache_key = $1 AND build_id = $3")
                .executeBatch(batch)
                .invoke(() -> onFlushed.accept(batch.stream().map(t -> t.getString(0)).toList()))
                .onFailure().invoke(e -> {
                    LOG.warnf("Read counts not written (%s); kept for the next flush", e.getMessage());
                    batch.forEach(t -> pending.computeIfAbsent(t.getString(0) + SEPARATOR + t.getString(2), k -> new LongAdder())
                            .add(t.getLong(1)));
                })
                .onFailure().recoverWithNull().replaceWithVoid();
    }

    void onStop(@Observes ShutdownEvent event) {
        flush().await().atMost(Duration.ofSeconds(5));
    }
}
