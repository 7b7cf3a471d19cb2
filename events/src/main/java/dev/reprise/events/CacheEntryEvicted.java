package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonTypeName;

/** An entry left the cache by policy (expired, rarely used, over budget). */
@JsonTypeName("dev.reprise.cache.evicted.v1")
public record CacheEntryEvicted(String cacheKey, String reason) implements CacheEvent {
}
