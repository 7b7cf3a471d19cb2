package dev.reprise.taskcache;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/** Counters kept in the cache directory's {@code stats.json}, shared by every process using it. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record CacheStats(long hits, long misses, long stores, long restoreMillis, long storeMillis, String lastPrune) {

    public static final CacheStats EMPTY = new CacheStats(0, 0, 0, 0, 0, null);

    public CacheStats hit(long restoreMs) {
        return new CacheStats(hits + 1, misses, stores, restoreMillis + restoreMs, storeMillis, lastPrune);
    }

    public CacheStats miss() {
        return new CacheStats(hits, misses + 1, stores, restoreMillis, storeMillis, lastPrune);
    }

    public CacheStats stored(long storeMs) {
        return new CacheStats(hits, misses, stores + 1, restoreMillis, storeMillis + storeMs, lastPrune);
    }

    public CacheStats pruned(String when) {
        return new CacheStats(hits, misses, stores, restoreMillis, storeMillis, when);
    }
}
