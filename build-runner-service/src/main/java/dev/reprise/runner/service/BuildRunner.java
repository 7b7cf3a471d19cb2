package dev.reprise.runner.service;

import dev.reprise.events.BuildCompleted;
import dev.reprise.events.BuildRequested;
import dev.reprise.events.BuildStatus;
import dev.reprise.events.Identifiers;
import dev.reprise.runner.config.RunnerConfig;
import dev.reprise.runner.messaging.BuildEventLog;
import dev.reprise.runner.messaging.BuildEventPublisher;
import dev.reprise.runner.messaging.BuildRequestRequeuer;
import dev.reprise.runner.messaging.KafkaBuildEventSink;
import dev.reprise.runner.store.ExecutionStore;
import dev.reprise.runner.store.ExecutionStore.Claim;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.scheduler.Scheduled;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * Takes build requests off the queue: claims each build once, runs it, and reports it. A build
 * whose earlier runner died mid-way is reported failed with the reason, never left running.
 */
@ApplicationScoped
public class BuildRunner {

    private static final Logger LOG = Logger.getLogger(BuildRunner.class);

    private final RunnerConfig config;
    private final ExecutionStore executions;
    private final BuildEventPublisher publisher;
    private final BuildEventLog eventLog;
    private final MeterRegistry metrics;
    private final String runnerId;
    private final BuildExecutor executor;
    private final BuildRequestRequeuer requeuer;
    private final int concurrency;
    /** Requests being handled on this runner (running, claiming or being queued again): its slots in use. */
    private final java.util.concurrent.atomic.AtomicInteger busy = new java.util.concurrent.atomic.AtomicInteger();
    private final Object claims = new Object();
    private final Optional<StepCache> stepCache;
    private final Map<String, RunningBuild> running = new ConcurrentHashMap<>();
    private final CancelledBuilds cancelledEarly = new CancelledBuilds(10_000);

    public BuildRunner(RunnerConfig config, ExecutionStore executions, BuildEventPublisher publisher,
            BuildEventLog eventLog, MeterRegistry metrics, BuildRequestRequeuer requeuer,
            @org.eclipse.microprofile.config.inject.ConfigProperty(name = "smallrye.messaging.worker.builds.max-concurrency",
                    defaultValue = "2") int concurrency) {
        this.config = config;
        this.requeuer = requeuer;
        this.concurrency = concurrency;
        this.executions = executions;
        this.publisher = publisher;
        this.eventLog = eventLog;
        this.metrics = metrics;
        // Registered at zero: a histogram whose series starts with the first build shows no rate for it.
        for (dev.reprise.events.BuildStatus status : dev.reprise.events.BuildStatus.values()) {
            String name = status.name().toLowerCase();
            metrics.counter("reprise.runner.builds", "status", name);
            metrics.timer("reprise.runner.build.duration", "status", name);
        }
        metrics.counter("reprise.runner.requeued", "reason", "tenant-share");
        this.runnerId = config.id().orElseGet(BuildRunner::defaultId);
        this.stepCache = config.taskCache().enabled() ? Optional.of(openStepCache(config, metrics)) : Optional.empty();
        Optional<dev.reprise.runner.container.ContainerExecutor> containers = config.container().mode() == RunnerConfig.Container.Mode.NEVER
                ? Optional.empty() : Optional.of(new dev.reprise.runner.container.ContainerExecutor(config.container()));
        this.executor = new BuildExecutor(config, runnerId, stepCache, containers, openDependencyCache(config, metrics));
    }

    private static Optional<DependencyCache> openDependencyCache(RunnerConfig config, MeterRegistry metrics) {
        RunnerConfig.DependencyCache deps = config.dependencyCache();
        if (!deps.enabled()) {
            return Optional.empty();
        }
        if (deps.secret().map(String::strip).filter(s -> s.length() >= dev.reprise.events.StreamTickets.MIN_SECRET_LENGTH).isEmpty()) {
            LOG.warn("Dependency caches are off: REPRISE_STREAM_SECRET (reprise.runner.dependency-cache.secret) is not set, so the runner"
                    + " cannot present its builds' tenants to artifact-service; every build downloads its dependencies");
            return Optional.empty();
        }
        try {
            return Optional.of(new DependencyCache(deps, metrics));
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot create the dependency cache directory " + deps.dir()
                    + " (set reprise.runner.dependency-cache.dir, or disable it with reprise.runner.dependency-cache.enabled=false)", e);
        }
    }

    private static StepCache openStepCache(RunnerConfig config, MeterRegistry metrics) {
        try {
            return new StepCache(config.taskCache(), metrics);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot create the task cache directory " + config.taskCache().dir()
                    + " (set reprise.runner.task-cache.dir, or disable it with reprise.runner.task-cache.enabled=false)", e);
        }
    }

    /** Keeps the task cache within its size and age budget. */
    @Scheduled(every = "${reprise.runner.task-cache.prune-interval:1h}", delay = 1, delayUnit = java.util.concurrent.TimeUnit.MINUTES,
            concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void pruneStepCache() {
        stepCache.ifPresent(cache -> {
            try {
                var pruned = cache.prune();
                if (pruned.entries() > 0) {
                    LOG.infof("Task cache: pruned %d entries (%d bytes)", pruned.entries(), pruned.bytes());
                }
            } catch (java.io.IOException | RuntimeException e) {
                LOG.warnf("Task cache prune failed: %s", e.getMessage());
            }
        });
    }

    /** Blocks for the build's duration; the caller acknowledges the request afterwards. */
    public void handle(BuildRequested request) {
        if (!Identifiers.isBuildId(request.buildId())) {
            LOG.warnf("Ignored a build request whose id is not a build id: %s", request.buildId());
            return;
        }
        busy.incrementAndGet();
        try {
            handleClaimed(request, claim(request));
        } finally {
            busy.decrementAndGet();
        }
    }

    /**
     * A tenant at its share may use free slots, but not this runner's last one: that is kept for whoever is queued
     * behind. Decided one request at a time, so requests arriving together are counted against each other.
     */
    private Claim claim(BuildRequested request) {
        Optional<Claim> fresh;
        synchronized (claims) {
            int share = config.tenantShare() > 0 && busy.get() >= concurrency ? config.tenantShare() : 0;
            fresh = executions.claimNew(request.buildId(), request.cacheKey(), request.tenantId(), runnerId,
                    config.heartbeatStaleAfter(), share);
        }
        return fresh.orElseGet(() -> executions.claimSeen(request.buildId(), runnerId, config.heartbeatStaleAfter(),
                config.heartbeatInterval()));
    }

    private void handleClaimed(BuildRequested request, Claim claim) {
        if (claim instanceof Claim.OverShare over) {
            Optional<String> cancelled = cancelledEarly.take(request.buildId());
            if (cancelled.isPresent()) {
                reportCancelledBeforeStart(request, cancelled.get());
            } else {
                requeue(request, over.running());
            }
        } else if (claim instanceof Claim.Interrupted lost) {
            reportInterrupted(request, lost);
        } else if (claim instanceof Claim.AlreadyFinished done) {
            LOG.infof("Build %s already finished (%s); ignoring the duplicate request", request.buildId(), done.status());
        } else {
            Optional<String> cancelled = cancelledEarly.take(request.buildId());
            if (cancelled.isPresent()) {
                reportCancelledBeforeStart(request, cancelled.get());
            } else {
                run(request);
            }
        }
    }

    /**
     * Sends a request of a tenant over its share to the end of the queue, after a pause (so a queue of nothing else is
     * not spun hot); its build stays queued. The copy is on the broker before the original is acknowledged.
     */
    private void requeue(BuildRequested request, long tenantRunning) {
        LOG.debugf("Build %s: tenant %s has %d builds running (share %d); queued again behind the others", request.buildId(),
                request.tenantId(), tenantRunning, config.tenantShare());
        try {
            Thread.sleep(config.tenantRequeueDelay().toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        requeuer.requeue(request);
        metrics.counter("reprise.runner.requeued", "reason", "tenant-share").increment();
    }

    /** Stops a build if this runner holds it (true), else remembers the cancel in case it is still queued. */
    public boolean cancel(String buildId, String reason) {
        RunningBuild build = running.get(buildId);
        if (build == null) {
            cancelledEarly.remember(buildId, reason);
            return false;
        }
        LOG.infof("Cancelling build %s: %s", buildId, reason);
        build.cancel(reason);
        return true;
    }

    @Scheduled(every = "${reprise.runner.heartbeat-interval:5s}", concurrentExecution = Scheduled.ConcurrentExecution.SKIP)
    void heartbeat() {
        executions.heartbeat(running.keySet());
    }

    /** Builds still running when the runner stops fail with a reason instead of running on unowned. */
    void onStop(@Observes ShutdownEvent event) {
        running.values().forEach(build -> build.abort("runner " + runnerId + " shut down mid-build; request again to rebuild"));
    }

    /** How contained this runner's builds are. */
    public dev.reprise.runner.sandbox.Sandbox.Isolation isolation() {
        return executor.isolation();
    }

    public String runnerId() {
        return runnerId;
    }

    private void run(BuildRequested request) {
        RunningBuild handle = new RunningBuild(request.buildId(), config.killGrace());
        running.put(request.buildId(), handle);
        try {
            LOG.infof("Build %s: %s @ %s (%s)", request.buildId(), request.repository(), request.commitSha(), request.tool());
            BuildOutcome outcome = executor.run(request, new KafkaBuildEventSink(publisher, request.buildId(), 0), handle);
            executions.finish(request.buildId(), outcome.status(), outcome.exitCode());
            metrics.counter("reprise.runner.builds", "status", outcome.status().name().toLowerCase()).increment();
            metrics.timer("reprise.runner.build.duration", "status", outcome.status().name().toLowerCase())
                    .record(java.time.Duration.ofMillis(outcome.durationMs()));
            LOG.infof("Build %s finished: %s in %d ms%s", request.buildId(), outcome.status(), outcome.durationMs(),
                    outcome.reason() == null ? "" : " (" + outcome.reason() + ")");
        } finally {
            running.remove(request.buildId());
        }
    }

    private void reportInterrupted(BuildRequested request, Claim.Interrupted lost) {
        long lastSeq = eventLog.lastSequence(request.buildId(), lost.startedAt().toInstant());
        String reason = "runner " + lost.runnerId() + " stopped during attempt " + lost.attempt()
                + "; request again to rebuild";
        new KafkaBuildEventSink(publisher, request.buildId(), lastSeq).emit(new BuildCompleted(request.buildId(),
                request.cacheKey(), BuildStatus.INTERRUPTED, null, 0, reason));
        executions.finish(request.buildId(), BuildStatus.INTERRUPTED, null);
        metrics.counter("reprise.runner.builds", "status", "interrupted").increment();
        LOG.warnf("Build %s was interrupted (%s); reported interrupted after seq %d", request.buildId(), reason, lastSeq);
    }

    private void reportCancelledBeforeStart(BuildRequested request, String reason) {
        new KafkaBuildEventSink(publisher, request.buildId(), 0).emit(new BuildCompleted(request.buildId(),
                request.cacheKey(), BuildStatus.CANCELLED, null, 0, reason));
        executions.finish(request.buildId(), BuildStatus.CANCELLED, null);
        metrics.counter("reprise.runner.builds", "status", "cancelled").increment();
        LOG.infof("Build %s was cancelled before it started (%s)", request.buildId(), reason);
    }

    private static String defaultId() {
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            host = "runner";
        }
        return host + "-" + UUID.randomUUID().toString().substring(0, 8);
    }
}
