package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonTypeName;

/** A named step ended with {@code exitCode}. */
@JsonTypeName("dev.reprise.build.step-finished.v1")
public record StepFinished(String buildId, int step, String name, int exitCode, long durationMs, long offsetMs) implements BuildEvent {
}
