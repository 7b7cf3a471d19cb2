package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonSubTypes;

/** What happened to recordings, on {@link Topics#CACHE_EVENTS}, keyed by cache key. */
@JsonSubTypes({
        @JsonSubTypes.Type(RecordingStored.class),
        @JsonSubTypes.Type(CacheInvalidated.class),
        @JsonSubTypes.Type(CacheEntryEvicted.class)
})
public sealed interface CacheEvent extends ReprisePayload permits RecordingStored, CacheInvalidated, CacheEntryEvicted {
}
