package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonTypeName;

/** The last event of a build; {@code exitCode} is null when no process exit was seen. */
@JsonTypeName("dev.reprise.build.completed.v1")
public record BuildCompleted(String buildId, String cacheKey, BuildStatus status, Integer exitCode, long durationMs, String reason) implements BuildEvent {
}
