package dev.reprise.runner.service;

import java.time.Duration;

/** A build in progress on this runner: what a cancel request needs to stop it. */
public final class RunningBuild {

    private final String buildId;
    private final Duration killGrace;
    private volatile StepProcess current;
    private volatile String cancelReason;
    private volatile boolean aborted;

    public RunningBuild(String buildId, Duration killGrace) {
        this.buildId = buildId;
        this.killGrace = killGrace;
    }

    public String buildId() {
        return buildId;
    }

    /** Marks the build cancelled and kills whatever step is running. */
    public void cancel(String reason) {
        cancelReason = reason == null || reason.isBlank() ? "cancelled" : reason;
        StepProcess running = current;
        if (running != null) {
            running.kill(killGrace);
        }
    }

    /** Stops the build because this runner is going away: it fails (with the reason), not cancelled. */
    public void abort(String reason) {
        aborted = true;
        cancel(reason);
    }

    public boolean aborted() {
        return aborted;
    }

    public boolean cancelled() {
        return cancelReason != null;
    }

    public String cancelReason() {
        return cancelReason;
    }

    void running(StepProcess tree) {
        current = tree;
        if (cancelled()) {
            tree.kill(killGrace);
        }
    }
}
