package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonTypeName;

/** Entries were invalidated by key, by repository or wholesale ({@code scope} KEY, REPOSITORY or ALL). */
@JsonTypeName("dev.reprise.cache.invalidated.v1")
public record CacheInvalidated(String scope, String value, long entries, String reason) implements CacheEvent {
}
