package dev.reprise.runner.service;

import dev.reprise.runner.config.RunnerConfig;
import dev.reprise.taskcache.InputHashes;
import dev.reprise.taskcache.LocalCache;
import dev.reprise.taskcache.RemoteCache;
import dev.reprise.taskcache.TaskCache;
import dev.reprise.taskcache.TerminalLog;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import org.jboss.logging.Logger;

/**
 * The task-output cache (the {@code cli} module's library) as the runner uses it for a build
 * step: the key covers every file of the checkout except {@code .git} and tool caches, the
 * command, the build's environment (less what differs per build) and the command's toolchain; a
 * hit restores the outputs into the workspace and gives back the recorded log and exit code; a
 * successful run is stored locally and, when configured, on the artifact service.
 */
public final class StepCache {

    private static final Logger LOG = Logger.getLogger(StepCache.class);
    /** Variables the executor sets per build: part of the key, they would make every build a miss. */
    private static final Set<String> PER_BUILD = Set.of("HOME", "REPRISE_BUILD_ID");
    public static final List<String> RESULTS = List.of("hit", "miss", "bypassed", "error");

    private final RunnerConfig.TaskCache config;
    private final LocalCache local;
    private final Optional<RemoteCache> remote;
    private final Set<String> excluded;
    private final MeterRegistry metrics;
    private final PrintStream notes = new PrintStream(OutputStream.nullOutputStream()) {
        @Override
        public void println(String line) {
            LOG.warn(line);
        }
    };

    public StepCache(RunnerConfig.TaskCache config, MeterRegistry metrics) throws IOException {
        this.config = config;
        this.local = new LocalCache(Path.of(config.dir()).toAbsolutePath());
        this.remote = config.remoteUrl().map(url -> new RemoteCache(url, config.token().orElse(""), config.remoteTimeout()));
        this.excluded = Set.copyOf(new LinkedHashSet<>(config.exclude()));
        this.metrics = metrics;
        RESULTS.forEach(result -> metrics.counter("reprise.runner.step.cache", "result", result));
    }

    /** One step of one build: its command run by {@code bash -c} in {@code workspace} with exactly {@code env}. */
    public Step step(Path workspace, String command, Map<String, String> env) {
        return new Step(workspace, command, env);
    }

    /** Removes entries unused for the configured age and the least recently used above the size budget. */
    public LocalCache.Pruned prune() throws IOException {
        return local.prune(config.maxBytes(), config.maxAge());
    }

    void count(String result) {
        metrics.counter("reprise.runner.step.cache", "result", result).increment();
    }

    /** The cache's view of one step; used by one build thread (the log is appended by its output pumps). */
    public final class Step {
        private final TaskCache cache;
        private final TaskCache.Task task;
        private final Map<String, String> env;
        private final TerminalLog log = new TerminalLog();
        private String key;
        private TaskCache.Before before;

        Step(Path workspace, String command, Map<String, String> env) {
            // Input paths are per-build workspaces, never seen twice: nothing to remember between builds. The checkout
            // is the tenant's: its symbolic links are keyed by their text, never read through by the runner.
            this.cache = new TaskCache(local, remote, config.verifyOnRead(), excluded, notes, InputHashes.none(), false);
            TreeSet<String> envNames = new TreeSet<>(env.keySet());
            envNames.removeAll(PER_BUILD);
            this.task = new TaskCache.Task(workspace, List.of("**"), List.of(), List.copyOf(envNames), List.of("bash", "-c", command),
                    false);
            this.env = env;
        }

        /** The task key (hashes the checkout once). */
        public String key() throws IOException {
            if (key == null) {
                try {
                    key = cache.key(task, env);
                } catch (UncheckedIOException e) {
                    throw e.getCause();
                }
            }
            return key;
        }

        /** On a hit: outputs restored, the log written to {@code out}/{@code err}. */
        public Optional<TaskCache.Result> restore(long startNanos, OutputStream out, OutputStream err) throws IOException {
            return cache.restore(task, key(), startNanos, out, err);
        }

        /** Snapshots the workspace before the command runs (its outputs are what changes). */
        public void beforeRun() {
            before = cache.before(task);
        }

        /** Records a chunk of the live output, in arrival order across both streams. */
        public void record(int stream, byte[] bytes) {
            log.append(stream, bytes, 0, bytes.length);
        }

        /** Stores a finished run (failures are not stored); a store that fails is logged, never fatal. */
        public boolean store(int exitCode, long runMs) {
            if (before == null) {
                return false;
            }
            try {
                return cache.store(task, key(), before, exitCode, runMs, log.toByteArray());
            } catch (IOException | RuntimeException e) {
                LOG.warnf("Could not store the step's outputs in the task cache (%s); the build is unaffected", e.toString());
                return false;
            }
        }
    }
}
