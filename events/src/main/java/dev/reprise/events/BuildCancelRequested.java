package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonTypeName;

/** Asks whichever runner holds the build to stop it and kill its process tree. */
@JsonTypeName("dev.reprise.build.cancel-requested.v1")
public record BuildCancelRequested(String buildId, String tenantId, String reason) implements BuildRequestEvent {
}
