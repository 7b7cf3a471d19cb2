package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonTypeName;

/** A named step (checkout, build, test) began. */
@JsonTypeName("dev.reprise.build.step-started.v1")
public record StepStarted(String buildId, int step, String name, long offsetMs) implements BuildEvent {
}
