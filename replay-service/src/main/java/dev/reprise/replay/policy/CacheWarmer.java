package dev.reprise.replay.policy;

import dev.reprise.replay.store.RecordingIndex;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import org.jboss.logging.Logger;

/** At start, the most read recordings' lookups go into the cache (seed 001: warming), in the background. */
@ApplicationScoped
public class CacheWarmer {

    private static final Logger LOG = Logger.getLogger(CacheWarmer.class);

    private final RecordingIndex index;
    private final CachePolicy policy;

    public CacheWarmer(RecordingIndex index, CachePolicy policy) {
        this.index = index;
        this.policy = policy;
    }

    void onStart(@Observes StartupEvent event) {
        if (policy.warmEntries() <= 0) {
            return;
        }
        // Never holds the start: PostgreSQL or Redis away only means a cold cache.
        index.warmHottest(policy.warmEntries()).subscribe().with(keys -> LOG.infof("Warming the lookup cache with the %d most read"
                + " recording(s)", keys.size()), e -> LOG.warnf("Warming the lookup cache skipped (%s)", e.getMessage()));
    }
}
