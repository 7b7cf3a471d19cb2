package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonTypeName;

/** A chunk of terminal output, {@code offsetMs} after the build started. */
@JsonTypeName("dev.reprise.build.output.v1")
public record BuildOutput(String buildId, OutputStream stream, String chunk, long offsetMs) implements BuildEvent {
}
