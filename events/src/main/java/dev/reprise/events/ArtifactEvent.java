package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonSubTypes;

/** What happened in the content-addressed store, on {@link Topics#ARTIFACT_EVENTS}. */
@JsonSubTypes({
        @JsonSubTypes.Type(BlobStored.class),
        @JsonSubTypes.Type(CacheEntrySaved.class),
        @JsonSubTypes.Type(ArtifactsPruned.class),
        @JsonSubTypes.Type(ArtifactsInvalidated.class),
        @JsonSubTypes.Type(BlobQuarantined.class)
})
public sealed interface ArtifactEvent extends ReprisePayload permits BlobStored, CacheEntrySaved, ArtifactsPruned,
        ArtifactsInvalidated, BlobQuarantined {
}
