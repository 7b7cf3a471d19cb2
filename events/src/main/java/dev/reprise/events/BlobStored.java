package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonTypeName;

/** A new blob is complete and verified in the CAS. */
@JsonTypeName("dev.reprise.artifact.blob-stored.v1")
public record BlobStored(String digest, long sizeBytes, String tenantId) implements ArtifactEvent {
}
