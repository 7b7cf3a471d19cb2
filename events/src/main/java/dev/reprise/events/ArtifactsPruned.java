package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonTypeName;

/** Entries were pruned by TTL, LRU or size budget. */
@JsonTypeName("dev.reprise.artifact.pruned.v1")
public record ArtifactsPruned(long entries, long bytes, String reason) implements ArtifactEvent {
}
