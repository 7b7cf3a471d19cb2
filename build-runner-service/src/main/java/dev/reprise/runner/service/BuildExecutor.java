package dev.reprise.runner.service;

import dev.reprise.events.BuildCompleted;
import dev.reprise.events.BuildOutput;
import dev.reprise.events.BuildRequested;
import dev.reprise.events.BuildStarted;
import dev.reprise.events.BuildStatus;
import dev.reprise.events.DependencyCacheResult;
import dev.reprise.events.Identifiers;
import dev.reprise.events.OutputStream;
import dev.reprise.events.StepCacheResult;
import dev.reprise.events.StepFinished;
import dev.reprise.events.StepStarted;
import dev.reprise.runner.config.RunnerConfig;
import dev.reprise.runner.container.ContainerExecutor;
import dev.reprise.runner.container.ImageResolver;
import dev.reprise.runner.sandbox.Sandbox;
import dev.reprise.taskcache.TaskCache;
import dev.reprise.taskcache.TerminalLog;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * Runs one build: a fresh workspace, a checkout of the exact commit, the tool's command, with a
 * wall-clock timeout, an output cap and a scrubbed environment; every line of output and every
 * step goes to the sink as it happens; the workspace is removed afterwards. The build step goes
 * through the task-output cache when one is given: a hit restores its outputs and replays its
 * recorded output instead of running it, and the step's cache result is an event of its own.
 * When it runs, its dependency directories are restored first and saved after a successful run
 * ({@link DependencyCache}), each with an event of its own.
 */
public final class BuildExecutor {

    private static final Logger LOG = Logger.getLogger(BuildExecutor.class);
    private static final int CHUNK_CHARS = 8192;

    private final RunnerConfig config;
    private final String runnerId;
    private final Optional<StepCache> stepCache;
    private final Optional<ContainerExecutor> containers;
    private final Optional<DependencyCache> dependencies;
    private final Sandbox sandbox;

    public BuildExecutor(RunnerConfig config, String runnerId) {
        this(config, runnerId, Optional.empty());
    }

    public BuildExecutor(RunnerConfig config, String runnerId, Optional<StepCache> stepCache) {
        this(config, runnerId, stepCache, Optional.empty());
    }

    public BuildExecutor(RunnerConfig config, String runnerId, Optional<StepCache> stepCache, Optional<ContainerExecutor> containers) {
        this(config, runnerId, stepCache, containers, Optional.empty());
    }

    public BuildExecutor(RunnerConfig config, String runnerId, Optional<StepCache> stepCache, Optional<ContainerExecutor> containers,
            Optional<DependencyCache> dependencies) {
        this.config = config;
        this.runnerId = runnerId;
        this.stepCache = stepCache;
        this.containers = containers;
        this.dependencies = dependencies;
        this.sandbox = Sandbox.of(config);
    }

    /** How contained this runner's builds are (for health and the start-up log). */
    public Sandbox.Isolation isolation() {
        return sandbox.isolation();
    }

    /** The wall-clock limit for a request: its own if given, never above the runner's maximum. */
    public Duration timeoutFor(BuildRequested request) {
        Duration asked = request.timeoutSeconds() == null || request.timeoutSeconds() <= 0
                ? config.defaultTimeout() : Duration.ofSeconds(request.timeoutSeconds());
        return asked.compareTo(config.maxTimeout()) > 0 ? config.maxTimeout() : asked;
    }

    public BuildOutcome run(BuildRequested request, BuildEventSink sink, RunningBuild handle) {
        if (!Identifiers.isBuildId(request.buildId())) {
            // The id names the workspace directory: never let one reach outside the workspace root.
            throw new IllegalArgumentException("build id must match " + Identifiers.BUILD_ID + ", was: " + request.buildId());
        }
        Build build = new Build(request, sink, handle, System.nanoTime() + timeoutFor(request).toNanos());
        sink.emit(new BuildStarted(request.buildId(), request.cacheKey(), runnerId, Instant.now(),
                request.tenantId(), request.repository(), request.commitSha(), request.tool()));
        BuildOutcome outcome;
        // The lease is closed before the catch and finally below run: whatever the build left running dies with its
        // control group, and its network goes, before its files do.
        try (Sandbox.Lease lease = sandbox.lease(request.buildId())) {
            build.lease = lease;
            outcome = build.run();
        } catch (IOException | RuntimeException e) {
            // Whatever went wrong, the build ends reported (failed, with the reason) and the runner goes on.
            LOG.errorf(e, "Build %s: runner error", request.buildId());
            outcome = new BuildOutcome(BuildStatus.FAILURE, null, build.elapsedMs(), "runner error: " + e);
        } finally {
            try {
                if (build.localCopy != null) {
                    deleteRecursively(build.localCopy);
                }
                deleteRecursively(build.workspace);
                Files.deleteIfExists(Sandbox.passwdOf(build.workspace));
            } catch (IOException | UncheckedIOException e) {
                LOG.warnf("Build %s: %s", request.buildId(), e.getMessage());
            }
        }
        sink.emit(new BuildCompleted(request.buildId(), request.cacheKey(), outcome.status(), outcome.exitCode(),
                outcome.durationMs(), outcome.reason()));
        return outcome;
    }

    /** One build's state while it runs. */
    private final class Build {
        private final BuildRequested request;
        private final BuildEventSink sink;
        private final RunningBuild handle;
        private final long deadlineNanos;
        private final long startNanos = System.nanoTime();
        private final AtomicLong outputBytes = new AtomicLong();
        private final AtomicBoolean outputCapped = new AtomicBoolean();
        private boolean workspaceCapped;
        private final Object outputOrder = new Object();
        /** The image the build step runs in (pinned by digest); null: on the host. */
        private String image;
        private final Path workspace;
        private final Map<String, String> env;
        private Sandbox.Lease lease;
        /** The runner's copy of a local repository that the checkout clones from; null: it clones the request's URL. */
        private Path localCopy;
        /** The build step's dependency plan and what its restore did; null: no dependency cache for this build. */
        private dev.reprise.taskcache.DependencyPlan dependencyPlan;
        private DependencyCache.Restore dependencyRestore;
        /** How long the last step that ran took. */
        private long lastStepMs;

        Build(BuildRequested request, BuildEventSink sink, RunningBuild handle, long deadlineNanos) {
            this.request = request;
            this.sink = sink;
            this.handle = handle;
            this.deadlineNanos = deadlineNanos;
            this.workspace = Path.of(config.workspaceRoot()).toAbsolutePath().resolve(request.buildId());
            this.env = environment();
        }

        BuildOutcome run() throws IOException {
            if (!Identifiers.isCommitSha(request.commitSha())) {
                return fail(null, "commit must be a 40-character lowercase hex SHA, was: " + request.commitSha());
            }
            if (request.env() != null) {
                // The gateway refuses these; a request that reached the queue another way is refused here too.
                for (String name : request.env().keySet()) {
                    java.util.Optional<String> refused = dev.reprise.events.BuildEnv.refusedReason(name);
                    if (refused.isPresent()) {
                        return fail(null, "env." + name + ": " + refused.get());
                    }
                }
            }
            String command = ToolPresets.commandFor(request.tool(), request.command()).orElse(null);
            if (command == null) {
                return fail(null, "tool '" + request.tool() + "' has no preset; send a command");
            }
            deleteRecursively(workspace);
            sandbox.createWorkspace(workspace, lease);
            if (request.repository().startsWith("file:") && lease.uid() >= 0) {
                localCopy = workspace.resolveSibling(workspace.getFileName() + ".source.git");
                deleteRecursively(localCopy);
            }

            String source = localCopy != null ? localCopy.toString() : request.repository();
            StepResult checkout = step(1, "checkout", false, "git clone --quiet --no-checkout -- " + quote(source)
                    + " . && git -c advice.detachedHead=false checkout --quiet --detach " + request.commitSha());
            if (checkout.outcome != null) {
                return checkout.outcome;
            }
            if (checkout.exitCode != 0) {
                return fail(checkout.exitCode, "checkout of " + request.commitSha() + " failed");
            }
            int buildStep = 2;
            if (containers.isPresent() && containers.get().appliesTo(workspace)) {
                StepResult image = imageStep(buildStep++);
                if (image.outcome != null) {
                    return image.outcome;
                }
            }
            StepResult build = step(buildStep, "build", true, command);
            if (build.outcome != null) {
                return build.outcome;
            }
            if (build.exitCode != 0) {
                return fail(build.exitCode, "command exited with " + build.exitCode);
            }
            saveDependencies();
            return new BuildOutcome(BuildStatus.SUCCESS, 0, elapsedMs(), null);
        }

        /**
         * Before the build step runs: the checkout's dependency directories restored into its HOME
         * (the workspace), and the result sent. Nothing when the checkout pins no dependencies.
         */
        private void restoreDependencies(String command) {
            if (dependencies.isEmpty() || request.tenantId() == null || !dev.reprise.events.StreamTickets.isTenantId(request.tenantId())) {
                return;
            }
            DependencyCache cache = dependencies.get();
            try {
                dependencyPlan = cache.plan(workspace, request.repository(), command, env).orElse(null);
            } catch (RuntimeException e) {
                LOG.warnf("Build %s: no dependency cache (%s)", request.buildId(), e.toString());
                return;
            }
            if (dependencyPlan == null) {
                return;
            }
            dependencyRestore = request.fresh() ? cache.bypassed()
                    : cache.restore(dependencyPlan, request.tenantId(), workspace, lease.uid(), deadline());
            DependencyCache.Restore r = dependencyRestore;
            sink.emit(new DependencyCacheResult(request.buildId(), r.result(), dependencyPlan.key(), r.restoredKey(),
                    dependencyPlan.set().paths(), r.bytes(), r.millis(), r.builtFrom(), r.detail(), elapsedMs()));
        }

        /** After a successful build step that did not restore its exact key: its dependency directories saved. */
        private void saveDependencies() {
            if (dependencyPlan == null || dependencyRestore == null) {
                return;
            }
            DependencyCache cache = dependencies.orElseThrow();
            if (dependencyRestore.exact()) {
                cache.timeSaved(dependencyRestore, lastStepMs);
                return;
            }
            DependencyCache.Provenance provenance = new DependencyCache.Provenance(request.tenantId(), request.repository(),
                    request.commitSha(), commitSubject(), request.ref(), request.buildId(), lastStepMs, dependencyRestore.digest());
            DependencyCache.Save saved = cache.save(dependencyPlan, workspace, lease.uid(), provenance, deadline());
            if (!"saved".equals(saved.result())) {
                LOG.infof("Build %s: dependencies not saved: %s (%s)", request.buildId(), saved.result(), saved.detail());
                if (!"error".equals(saved.result())) {
                    return;
                }
            }
            com.fasterxml.jackson.databind.node.ObjectNode own = new com.fasterxml.jackson.databind.ObjectMapper().createObjectNode()
                    .put("commit", request.commitSha()).put("commitMessage", provenance.commitMessage()).put("branch", request.ref())
                    .put("buildId", request.buildId());
            dependencyPlan.toolchains().forEach(own.putObject("toolchain")::put);
            sink.emit(new DependencyCacheResult(request.buildId(), saved.result(), dependencyPlan.key(), null,
                    dependencyPlan.set().paths(), saved.bytes(), saved.millis(), DependencyCache.builtFrom(own), saved.detail(), elapsedMs()));
        }

        /** The checked-out commit's subject line, read by git inside the build's sandbox; null when it cannot be read. */
        private String commitSubject() {
            try {
                StepProcess git = ProcessTree.start(sandbox.wrap("git log -1 --format=%s", workspace, checkoutEnvironment(), lease,
                        readOnlyFor(false)), workspace, Sandbox.LAUNCH_ENV);
                try {
                    byte[] out = git.stdout().readNBytes(1024);
                    return git.waitFor(Duration.ofSeconds(10)) && git.exitCode() == 0
                            ? new String(out, StandardCharsets.UTF_8).strip() : null;
                } finally {
                    git.kill(Duration.ZERO);
                    git.close();
                }
            } catch (IOException | RuntimeException e) {
                LOG.debugf("Build %s: no commit message (%s)", request.buildId(), e.toString());
                return null;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
        }

        private Instant deadline() {
            return Instant.now().plusNanos(Math.max(0, deadlineNanos - System.nanoTime()));
        }

        private StepResult step(int number, String name, boolean cacheable, String command) throws IOException {
            long stepStart = System.nanoTime();
            sink.emit(new StepStarted(request.buildId(), number, name, elapsedMs()));
            if (!cacheable && localCopy != null) {
                StepResult copied = copyLocalRepository(number, name, stepStart);
                if (copied != null) {
                    return copied;
                }
            }
            Lookup lookup = cacheable && stepCache.isPresent() ? lookUp(number, name, command, stepStart) : Lookup.NONE;
            if (lookup.hit() != null) {
                return lookup.hit();
            }
            if (cacheable) {
                restoreDependencies(command);
            }
            StepCache.Step cached = lookup.step();
            if (cached != null) {
                cached.beforeRun();
            }
            StepProcess tree = image != null && cacheable
                    ? containers.orElseThrow().start(image, request.buildId(), command, workspace, env, lease.uid())
                    : ProcessTree.start(sandbox.wrap(command, workspace, cacheable ? env : checkoutEnvironment(), lease, readOnlyFor(cacheable)),
                            workspace, Sandbox.LAUNCH_ENV);
            handle.running(tree);
            Thread out = pump(tree.stdout(), OutputStream.STDOUT, tree, cached);
            Thread err = pump(tree.stderr(), OutputStream.STDERR, tree, cached);
            boolean exited = awaitWithinWorkspaceCap(tree);
            if (!exited) {
                tree.kill(config.killGrace());
            } else {
                // Leave nothing behind: background children of a finished step die with it.
                tree.kill(Duration.ZERO);
            }
            join(out);
            join(err);
            int exitCode = exited ? tree.exitCode() : -1;
            tree.close();
            long durationMs = (System.nanoTime() - stepStart) / 1_000_000;
            lastStepMs = durationMs;
            if (cached != null && exited && !handle.cancelled() && !outputCapped.get()) {
                cached.store(exitCode, durationMs);
            }
            return finish(number, name, exitCode, durationMs, exited);
        }

        /**
         * Finds the build's image (the image-cache service's answer for the checkout's spec) and
         * pulls it; its progress is the step's output. A spec the service refuses fails the build.
         */
        private StepResult imageStep(int number) {
            long stepStart = System.nanoTime();
            sink.emit(new StepStarted(request.buildId(), number, "image", elapsedMs()));
            ContainerExecutor executor = containers.orElseThrow();
            java.util.function.Consumer<String> progress = line -> emitText(OutputStream.STDOUT, "reprise: " + line + "\n");
            String bypass = request.env() == null ? null : request.env().get("NO_CACHE");
            Duration left = Duration.ofNanos(deadlineNanos - System.nanoTime());
            int exitCode = 0;
            String failure = null;
            try {
                ImageResolver.Resolved resolved = executor.resolver().resolve(workspace,
                        bypass != null && !bypass.isBlank() && !bypass.equals("0") && !bypass.equalsIgnoreCase("false"), left, progress);
                long pullStart = System.nanoTime();
                executor.pull(resolved.image(), Duration.ofNanos(deadlineNanos - System.nanoTime()));
                progress.accept("image ready in " + (System.nanoTime() - pullStart) / 1_000_000 + " ms: " + resolved.image());
                image = resolved.image();
                // Part of the step's task key and visible to the build.
                env.put("REPRISE_IMAGE", image);
            } catch (ImageResolver.ImageException | RuntimeException e) {
                failure = e.getMessage();
                exitCode = 1;
                emitText(OutputStream.STDERR, "reprise: " + failure + "\n");
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                failure = "interrupted while resolving the build's image";
                exitCode = 1;
            }
            long durationMs = (System.nanoTime() - stepStart) / 1_000_000;
            StepResult result = finish(number, "image", exitCode, durationMs, true);
            if (result.outcome() == null && failure != null) {
                return new StepResult(exitCode, fail(null, "image: " + failure));
            }
            return result;
        }

        /**
         * Asks the task cache for the step. On a hit the outputs are restored, the recorded output
         * is sent as the step's output and the finished step comes back; otherwise the step to run
         * and store (none when the cache cannot be read).
         */
        private Lookup lookUp(int number, String name, String command, long stepStart) {
            StepCache steps = stepCache.orElseThrow();
            StepCache.Step step = steps.step(workspace, command, env);
            String key = null;
            try {
                key = step.key();
                if (request.fresh()) {
                    emitCacheResult(steps, number, name, "bypassed", null, key, 0);
                    return new Lookup(step, null);
                }
                ReplayedOutput replayed = new ReplayedOutput();
                Optional<TaskCache.Result> hit = step.restore(stepStart, replayed.stream(OutputStream.STDOUT),
                        replayed.stream(OutputStream.STDERR));
                if (hit.isEmpty()) {
                    emitCacheResult(steps, number, name, "miss", null, key, 0);
                    return new Lookup(step, null);
                }
                TaskCache.Result result = hit.get();
                // The result comes first so a client knows the output that follows is a replay.
                emitCacheResult(steps, number, name, "hit", result.source(), key, Math.max(0, result.originalMillis() - result.millis()));
                replayed.release();
                long durationMs = (System.nanoTime() - stepStart) / 1_000_000;
                return new Lookup(step, finish(number, name, result.exitCode(), durationMs, true));
            } catch (IOException | RuntimeException e) {
                LOG.warnf("Build %s: the task cache could not be read (%s); running the step", request.buildId(), e.getMessage());
                emitCacheResult(steps, number, name, "error", null, key, 0);
                return Lookup.NONE;
            }
        }

        private void emitCacheResult(StepCache steps, int number, String name, String result, String source, String key, long savedMs) {
            steps.count(result);
            sink.emit(new StepCacheResult(request.buildId(), number, name, result, source, key, savedMs, elapsedMs()));
        }

        private StepResult finish(int number, String name, int exitCode, long durationMs, boolean exited) {
            sink.emit(new StepFinished(request.buildId(), number, name, exitCode, durationMs, elapsedMs()));

            BuildOutcome stopped = null;
            if (handle.cancelled()) {
                stopped = new BuildOutcome(handle.aborted() ? BuildStatus.INTERRUPTED : BuildStatus.CANCELLED, null,
                        elapsedMs(), handle.cancelReason());
            } else if (outputCapped.get()) {
                stopped = fail(null, "output exceeded " + config.outputCapBytes() + " bytes");
            } else if (workspaceCapped) {
                stopped = fail(null, "the workspace exceeded " + config.workspaceCapBytes() + " bytes on disk");
            } else if (!exited) {
                stopped = new BuildOutcome(BuildStatus.TIMEOUT, null, elapsedMs(),
                        "timed out after " + timeoutFor(request).toSeconds() + " s");
            }
            return new StepResult(exitCode, stopped);
        }

        /**
         * Waits for the step until the build's deadline, measuring the workspace every
         * {@code workspace-check-interval}: a step that fills it past the cap is stopped there.
         * True when the step exited by itself.
         */
        private boolean awaitWithinWorkspaceCap(StepProcess tree) {
            try {
                while (true) {
                    long left = deadlineNanos - System.nanoTime();
                    if (left <= 0) {
                        return false;
                    }
                    if (tree.waitFor(Duration.ofNanos(Math.min(left, config.workspaceCheckInterval().toNanos())))) {
                        return true;
                    }
                    if (diskUsage(workspace) > config.workspaceCapBytes()) {
                        workspaceCapped = true;
                        return false;
                    }
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }

        private Thread pump(InputStream stream, OutputStream which, StepProcess tree, StepCache.Step cached) {
            Thread thread = new Thread(() -> {
                char[] buffer = new char[CHUNK_CHARS];
                try (Reader reader = new InputStreamReader(stream, StandardCharsets.UTF_8)) {
                    int n;
                    while ((n = reader.read(buffer)) > 0) {
                        String chunk = new String(buffer, 0, n);
                        byte[] bytes = chunk.getBytes(StandardCharsets.UTF_8);
                        boolean sent;
                        // One lock for both streams: the recorded log keeps the order the events were sent in.
                        synchronized (outputOrder) {
                            sent = emitOutput(which, chunk, bytes.length);
                            if (sent && cached != null) {
                                cached.record(which == OutputStream.STDERR ? TerminalLog.ERR : TerminalLog.OUT, bytes);
                            }
                        }
                        if (!sent) {
                            if (outputCapped.compareAndSet(false, true)) {
                                tree.kill(config.killGrace());
                            }
                            return;
                        }
                    }
                } catch (IOException e) {
                    // the stream closed because the process was killed
                }
            }, "build-" + which.name().toLowerCase() + "-" + request.buildId());
            thread.setDaemon(true);
            thread.start();
            return thread;
        }

        /** {@link #emitOutput} for text the runner made or decoded: counted by its UTF-8 bytes like the pumps' chunks. */
        private boolean emitText(OutputStream which, String text) {
            return emitOutput(which, text, text.getBytes(StandardCharsets.UTF_8).length);
        }

        /** Sends a chunk of output; false, and nothing sent, once the build's output is over its cap. */
        private boolean emitOutput(OutputStream which, String chunk, int bytes) {
            if (outputBytes.addAndGet(bytes) > config.outputCapBytes()) {
                return false;
            }
            sink.emit(new BuildOutput(request.buildId(), which, chunk, elapsedMs()));
            return true;
        }

        /**
         * A replayed log as output events, in the order it was recorded across both streams. Each
         * stream is decoded as UTF-8 on its own (a character split across writes waits for its
         * rest); everything is held until {@link #release}, so the cache result is sent first.
         */
        private final class ReplayedOutput {
            private final java.util.List<Map.Entry<OutputStream, byte[]>> segments = new java.util.ArrayList<>();
            private final Map<OutputStream, CharsetDecoder> decoders = new java.util.EnumMap<>(OutputStream.class);

            java.io.OutputStream stream(OutputStream which) {
                decoders.put(which, StandardCharsets.UTF_8.newDecoder()
                        .onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE));
                return new java.io.OutputStream() {
                    @Override
                    public void write(int b) {
                        write(new byte[] {(byte) b}, 0, 1);
                    }

                    @Override
                    public void write(byte[] b, int off, int len) {
                        segments.add(Map.entry(which, java.util.Arrays.copyOfRange(b, off, off + len)));
                    }
                };
            }

            void release() {
                for (Map.Entry<OutputStream, byte[]> segment : segments) {
                    if (!decode(segment.getKey(), ByteBuffer.wrap(segment.getValue()), false)) {
                        return;
                    }
                }
                for (OutputStream which : decoders.keySet()) {
                    if (!decode(which, ByteBuffer.allocate(0), true)) {
                        return;
                    }
                }
            }

            private boolean decode(OutputStream which, ByteBuffer in, boolean end) {
                CharsetDecoder decoder = decoders.get(which);
                CharBuffer out = CharBuffer.allocate(CHUNK_CHARS);
                boolean more = true;
                while (more) {
                    more = decoder.decode(in, out, end).isOverflow();
                    if (!more && end) {
                        decoder.flush(out);
                    }
                    out.flip();
                    if (out.hasRemaining()) {
                        if (!emitText(which, out.toString())) {
                            outputCapped.set(true);
                            return false;
                        }
                    }
                    out.clear();
                }
                return true;
            }
        }

        /** The checkout of a local repository reads the runner's copy of it (and the git configuration that lets it). */
        private java.util.List<Path> readOnlyFor(boolean buildStep) {
            return buildStep || localCopy == null ? java.util.List.of() : java.util.List.of(localCopy, sandbox.localCheckoutGitConfig());
        }

        /**
         * Copies a local (file://, local mode only) repository for the checkout, as the runner: the build's uid may
         * not reach the original (a repository under /root or in an owner-only directory), and the build is never
         * shown the directory it lives in. Null when copied; else the failed step, git's message as its output.
         */
        private StepResult copyLocalRepository(int number, String name, long stepStart) throws IOException {
            Path repository;
            try {
                repository = Path.of(java.net.URI.create(request.repository())).toAbsolutePath().normalize();
            } catch (IllegalArgumentException e) {
                emitText(OutputStream.STDERR, "reprise: " + request.repository() + " is not a local repository path: " + e.getMessage() + "\n");
                return finish(number, name, 128, (System.nanoTime() - stepStart) / 1_000_000, true);
            }
            Sandbox.Copied copied = sandbox.copyLocalRepository(repository, localCopy,
                    Duration.ofNanos(Math.max(0, deadlineNanos - System.nanoTime())));
            if (copied.exitCode() == 0) {
                return null;
            }
            if (!copied.output().isEmpty()) {
                emitText(OutputStream.STDERR, copied.output());
            }
            return finish(number, name, copied.exitCode(), (System.nanoTime() - stepStart) / 1_000_000, copied.exitCode() >= 0);
        }

        /**
         * The checkout's variables: the build's, and for a local repository owned by another user
         * (the builds' uids own nothing) git's ownership check waived for this one command.
         */
        private Map<String, String> checkoutEnvironment() {
            // None of the request's variables: the checkout is the runner's step, not the tenant's.
            Map<String, String> checkout = baseEnvironment();
            if (request.repository().startsWith("file:")) {
                checkout.put("GIT_CONFIG_GLOBAL", sandbox.localCheckoutGitConfig().toString());
            }
            return checkout;
        }

        private Map<String, String> environment() {
            Map<String, String> result = baseEnvironment();
            if (request.env() != null) {
                result.putAll(request.env());
            }
            result.putAll(perBuild());
            return result;
        }

        /** What the runner sets for every step, over anything of the request's. */
        private Map<String, String> perBuild() {
            Map<String, String> result = new HashMap<>();
            result.put("HOME", workspace.toString());
            result.put("CI", "true");
            result.put("GIT_TERMINAL_PROMPT", "0");
            result.put("REPRISE_BUILD_ID", request.buildId());
            // Part of the step cache's key: one tenant's step outputs are never another's hit.
            result.put("REPRISE_TENANT", request.tenantId() == null ? "" : request.tenantId());
            return result;
        }

        private Map<String, String> baseEnvironment() {
            Map<String, String> result = new HashMap<>();
            for (String name : config.envAllowList()) {
                String value = System.getenv(name);
                if (value != null) {
                    result.put(name, value);
                }
            }
            result.putIfAbsent("PATH", "/usr/local/bin:/usr/bin:/bin");
            result.putIfAbsent("LANG", "C.UTF-8");
            result.putAll(perBuild());
            return result;
        }

        private BuildOutcome fail(Integer exitCode, String reason) {
            return new BuildOutcome(BuildStatus.FAILURE, exitCode, elapsedMs(), reason);
        }

        long elapsedMs() {
            return (System.nanoTime() - startNanos) / 1_000_000;
        }
    }

    private record StepResult(int exitCode, BuildOutcome outcome) {
    }

    /** What the task cache said of a step: the finished step on a hit, else the step to run and store (null: run uncached). */
    private record Lookup(StepCache.Step step, StepResult hit) {
        static final Lookup NONE = new Lookup(null, null);
    }

    private static void join(Thread thread) {
        try {
            thread.join(5000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static String quote(String value) {
        return "'" + value.replace("'", "'\\''") + "'";
    }

    /**
     * Bytes the files under {@code root} take, symbolic links not followed; files that vanish
     * while it walks (the build is running) are skipped.
     */
    static long diskUsage(Path root) {
        long[] total = new long[1];
        try {
            Files.walkFileTree(root, new java.nio.file.SimpleFileVisitor<>() {
                @Override
                public java.nio.file.FileVisitResult visitFile(Path file, java.nio.file.attribute.BasicFileAttributes attributes) {
                    total[0] += attributes.size();
                    return java.nio.file.FileVisitResult.CONTINUE;
                }

                @Override
                public java.nio.file.FileVisitResult visitFileFailed(Path file, IOException e) {
                    return java.nio.file.FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            // the workspace went away: nothing on disk
        }
        return total[0];
    }

    static void deleteRecursively(Path root) {
        if (!Files.exists(root, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path dir, IOException e) throws IOException {
                    Files.delete(dir);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("could not remove workspace " + root, e);
        }
    }
}
