package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonTypeName;

/**
 * A tenant's entries were hidden at once ({@code scope}: key, prefix or repository; {@code protocol}
 * null for every protocol); their space is freed later by the collector.
 */
@JsonTypeName("dev.reprise.artifact.invalidated.v1")
public record ArtifactsInvalidated(String tenantId, String protocol, String scope, String value, long entries) implements ArtifactEvent {
}
