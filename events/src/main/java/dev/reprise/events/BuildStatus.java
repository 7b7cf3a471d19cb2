package dev.reprise.events;

/** How a build ended. Only SUCCESS and FAILURE are ever cached. */
public enum BuildStatus {
    SUCCESS, FAILURE, TIMEOUT, CANCELLED
}
