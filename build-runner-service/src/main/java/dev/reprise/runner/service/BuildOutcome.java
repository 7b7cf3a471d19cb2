package dev.reprise.runner.service;

import dev.reprise.events.BuildStatus;

/** How a build ended, as reported in BuildCompleted. */
public record BuildOutcome(BuildStatus status, Integer exitCode, long durationMs, String reason) {
}
