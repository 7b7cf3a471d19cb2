package dev.reprise.runner.service;

import dev.reprise.events.BuildCompleted;
import dev.reprise.events.BuildOutput;
import dev.reprise.events.BuildRequested;
import dev.reprise.events.BuildStarted;
import dev.reprise.events.BuildStatus;
import dev.reprise.events.Identifiers;
import dev.reprise.events.OutputStream;
import dev.reprise.events.StepFinished;
import dev.reprise.events.StepStarted;
import dev.reprise.runner.config.RunnerConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.io.UncheckedIOException;
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
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * Runs one build: a fresh workspace, a checkout of the exact commit, the tool's command, with a
 * wall-clock timeout, an output cap and a scrubbed environment; every line of output and every
 * step goes to the sink as it happens; the workspace is removed afterwards.
 */
public final class BuildExecutor {

    private static final Logger LOG = Logger.getLogger(BuildExecutor.class);
    private static final int CHUNK_CHARS = 8192;

    private final RunnerConfig config;
    private final String runnerId;

    public BuildExecutor(RunnerConfig config, String runnerId) {
        this.config = config;
        this.runnerId = runnerId;
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
        try {
            outcome = build.run();
        } catch (IOException | UncheckedIOException e) {
            outcome = new BuildOutcome(BuildStatus.FAILURE, null, build.elapsedMs(), "runner error: " + e.getMessage());
        } finally {
            try {
                deleteRecursively(build.workspace);
            } catch (UncheckedIOException e) {
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
        private final Path workspace;
        private final Map<String, String> env;

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
            String command = ToolPresets.commandFor(request.tool(), request.command()).orElse(null);
            if (command == null) {
                return fail(null, "tool '" + request.tool() + "' has no preset; send a command");
            }
            deleteRecursively(workspace);
            Files.createDirectories(workspace);

            StepResult checkout = step(1, "checkout", "git clone --quiet --no-checkout -- " + quote(request.repository())
                    + " . && git -c advice.detachedHead=false checkout --quiet --detach " + request.commitSha());
            if (checkout.outcome != null) {
                return checkout.outcome;
            }
            if (checkout.exitCode != 0) {
                return fail(checkout.exitCode, "checkout of " + request.commitSha() + " failed");
            }
            StepResult build = step(2, "build", command);
            if (build.outcome != null) {
                return build.outcome;
            }
            return build.exitCode == 0
                    ? new BuildOutcome(BuildStatus.SUCCESS, 0, elapsedMs(), null)
                    : fail(build.exitCode, "command exited with " + build.exitCode);
        }

        private StepResult step(int number, String name, String command) throws IOException {
            long stepStart = System.nanoTime();
            sink.emit(new StepStarted(request.buildId(), number, name, elapsedMs()));
            ProcessTree tree = ProcessTree.start(command, workspace, env);
            handle.running(tree);
            Thread out = pump(tree.process().getInputStream(), OutputStream.STDOUT, tree);
            Thread err = pump(tree.process().getErrorStream(), OutputStream.STDERR, tree);
            boolean exited;
            try {
                exited = tree.waitFor(Duration.ofNanos(deadlineNanos - System.nanoTime()));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                exited = false;
            }
            if (!exited) {
                tree.kill(config.killGrace());
            } else {
                // Leave nothing behind: background children of a finished step die with it.
                tree.kill(Duration.ZERO);
            }
            join(out);
            join(err);
            int exitCode = exited ? tree.process().exitValue() : -1;
            long durationMs = (System.nanoTime() - stepStart) / 1_000_000;
            sink.emit(new StepFinished(request.buildId(), number, name, exitCode, durationMs, elapsedMs()));

            BuildOutcome stopped = null;
            if (handle.cancelled()) {
                stopped = new BuildOutcome(handle.aborted() ? BuildStatus.FAILURE : BuildStatus.CANCELLED, null,
                        elapsedMs(), handle.cancelReason());
            } else if (outputCapped.get()) {
                stopped = fail(null, "output exceeded " + config.outputCapBytes() + " bytes");
            } else if (!exited) {
                stopped = new BuildOutcome(BuildStatus.TIMEOUT, null, elapsedMs(),
                        "timed out after " + timeoutFor(request).toSeconds() + " s");
            }
            return new StepResult(exitCode, stopped);
        }

        private Thread pump(InputStream stream, OutputStream which, ProcessTree tree) {
            Thread thread = new Thread(() -> {
                char[] buffer = new char[CHUNK_CHARS];
                try (Reader reader = new InputStreamReader(stream, StandardCharsets.UTF_8)) {
                    int n;
                    while ((n = reader.read(buffer)) > 0) {
                        String chunk = new String(buffer, 0, n);
                        long total = outputBytes.addAndGet(chunk.getBytes(StandardCharsets.UTF_8).length);
                        if (total > config.outputCapBytes()) {
                            if (outputCapped.compareAndSet(false, true)) {
                                tree.kill(config.killGrace());
                            }
                            return;
                        }
                        sink.emit(new BuildOutput(request.buildId(), which, chunk, elapsedMs()));
                    }
                } catch (IOException e) {
                    // the stream closed because the process was killed
                }
            }, "build-" + which.name().toLowerCase() + "-" + request.buildId());
            thread.setDaemon(true);
            thread.start();
            return thread;
        }

        private Map<String, String> environment() {
            Map<String, String> result = new HashMap<>();
            for (String name : config.envAllowList()) {
                String value = System.getenv(name);
                if (value != null) {
                    result.put(name, value);
                }
            }
            result.putIfAbsent("PATH", "/usr/local/bin:/usr/bin:/bin");
            result.putIfAbsent("LANG", "C.UTF-8");
            if (request.env() != null) {
                result.putAll(request.env());
            }
            result.put("HOME", workspace.toString());
            result.put("CI", "true");
            result.put("GIT_TERMINAL_PROMPT", "0");
            result.put("REPRISE_BUILD_ID", request.buildId());
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
