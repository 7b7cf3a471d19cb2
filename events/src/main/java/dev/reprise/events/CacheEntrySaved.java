package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonTypeName;

/** A protocol cache entry ({@code protocol}: bazel, gradle, turbo, ccache, actions) now maps its key to a blob. */
@JsonTypeName("dev.reprise.artifact.entry-saved.v1")
public record CacheEntrySaved(String tenantId, String protocol, String key, String digest, long sizeBytes) implements ArtifactEvent {
}
