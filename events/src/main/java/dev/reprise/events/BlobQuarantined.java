package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonTypeName;

/** A stored blob no longer matched its digest or was missing ({@code reason}: corrupt, missing); it is never served again. */
@JsonTypeName("dev.reprise.artifact.blob-quarantined.v1")
public record BlobQuarantined(String digest, String reason) implements ArtifactEvent {
}
