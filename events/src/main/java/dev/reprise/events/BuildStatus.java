package dev.reprise.events;

/**
 * How a build ended. Only SUCCESS and FAILURE are ever cached. INTERRUPTED is a build its runner
 * did not finish (the runner crashed or shut down mid-build): not the build's own result, so it is
 * never cached and a hit never replays it; requesting the build again runs it.
 */
public enum BuildStatus {
    SUCCESS, FAILURE, TIMEOUT, CANCELLED, INTERRUPTED
}
