package dev.reprise.runner.service;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/**
 * Cancels that arrived before their build started here: a build cancelled while still queued is
 * reported cancelled when its request comes, instead of running. Every runner hears every cancel,
 * so each keeps the most recent ones, bounded.
 */
public final class CancelledBuilds {

    private final Map<String, String> reasons;

    public CancelledBuilds(int capacity) {
        this.reasons = new LinkedHashMap<>(16, 0.75f, false) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<String, String> eldest) {
                return size() > capacity;
            }
        };
    }

    public synchronized void remember(String buildId, String reason) {
        reasons.put(buildId, reason);
    }

    /** The reason the build was cancelled before it started, consuming the entry. */
    public synchronized Optional<String> take(String buildId) {
        return Optional.ofNullable(reasons.remove(buildId));
    }
}
