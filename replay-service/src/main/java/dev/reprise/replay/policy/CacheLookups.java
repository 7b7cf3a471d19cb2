package dev.reprise.replay.policy;

import dev.reprise.replay.store.RecordingIndex;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Clock;
import java.time.Duration;
import java.time.OffsetDateTime;

/**
 * The cache decision for a lookup: hit or miss under the rollout mode, and for a hit its age, label and
 * whether it is stale (served now, refreshed in the background). Every lookup is counted for the tenant.
 */
@ApplicationScoped
public class CacheLookups {

    /** What a lookup answers. */
    public sealed interface Answer {
    }

    /**
     * A hit. {@code label} is Fresh (< 1 h), Recent (< 24 h) or Cached; {@code stale} asks the caller to
     * refresh this popular, old entry in the background.
     */
    public record Hit(RecordingIndex.Entry entry, long ageSeconds, String label, boolean stale) implements Answer {
    }

    /** A miss, and why when it is not simply "no recording". */
    public record Miss(String detail) implements Answer {
    }

    private final RecordingIndex index;
    private final CacheStats stats;
    private final CachePolicy policy;
    private final Clock clock;

    public CacheLookups(RecordingIndex index, CacheStats stats, CachePolicy policy) {
        this.index = index;
        this.stats = stats;
        this.policy = policy;
        this.clock = Clock.systemUTC();
    }

    /** @param tenant the tenant asking (a tenant only ever hits its own recordings); null: any */
    public Uni<Answer> lookup(String cacheKey, String tenant) {
        if (!policy.mode().serves()) {
            return notServed(cacheKey, tenant);
        }
        return index.hit(cacheKey, tenant).map(found -> {
            if (found.isEmpty()) {
                stats.miss(tenant);
                return new Miss("no recording for cache key " + cacheKey);
            }
            RecordingIndex.Entry e = found.get();
            long age = Math.max(0, Duration.between(e.createdAt(), OffsetDateTime.now(clock)).toSeconds());
            boolean stale = age > policy.refreshAfter().toSeconds() && e.accessCount() >= policy.refreshMinReads();
            stats.hit(e.tenantId(), e.durationMs(), stale);
            return new Hit(e, age, label(age), stale);
        });
    }

    /** How a hit's age reads in the UI and the API. */
    public static String label(long ageSeconds) {
        return ageSeconds < 3600 ? "Fresh" : ageSeconds < 86_400 ? "Recent" : "Cached";
    }

    /**
     * Record-only and off: a miss, whatever the index holds. Record-only counts a lookup that would have hit
     * (without reading it: its popularity stays as it was), so an operator sees the hit rate to expect.
     */
    private Uni<Answer> notServed(String cacheKey, String tenant) {
        stats.miss(tenant);
        Miss miss = new Miss("replay mode is " + policy.mode() + ": no build is answered from cache (REPRISE_REPLAY_MODE)");
        if (!policy.mode().records()) {
            return Uni.createFrom().item(miss);
        }
        return index.byCacheKey(cacheKey).map(found -> {
            if (found.filter(e -> tenant == null || tenant.equals(e.tenantId())).isPresent()) {
                stats.shadowHit();
            }
            return miss;
        });
    }
}
