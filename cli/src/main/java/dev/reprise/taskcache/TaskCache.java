package dev.reprise.taskcache;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.SortedMap;

/**
 * Runs one task through the cache: its key from inputs, command, listed environment and
 * toolchain; on a hit (local, then remote) its outputs restored and its log replayed with its exit
 * code; on a miss the command runs, its output streams to the terminal while it is recorded, and
 * its outputs (declared globs, or what a before/after snapshot shows) are stored locally and
 * remotely. Failed commands are stored only when asked.
 */
public final class TaskCache {

    /** What to run. {@code outputs} empty: detect them with a snapshot. */
    public record Task(Path workspace, List<String> inputs, List<String> outputs, List<String> envNames, List<String> command,
            boolean cacheFailures) {
    }

    /** How a task ended. {@code source}: local, remote or run. */
    public record Result(String key, int exitCode, String source, long millis) {

        public boolean hit() {
            return !source.equals("run");
        }
    }

    private final LocalCache local;
    private final Optional<RemoteCache> remote;
    private final boolean verifyOnRead;
    private final Set<String> excluded;
    private final PrintStream notes;
    /** Loaded once: a long-lived user (the runner) stats its inputs instead of re-reading them. */
    private final InputHashes inputHashes;

    public TaskCache(LocalCache local, Optional<RemoteCache> remote, boolean verifyOnRead, Set<String> excluded, PrintStream notes) {
        this.local = local;
        this.remote = remote;
        this.verifyOnRead = verifyOnRead;
        this.excluded = excluded;
        this.notes = notes;
        this.inputHashes = InputHashes.load(local.root());
    }

    /** The task's key (hashes its inputs). */
    public String key(Task task, Map<String, String> environment) throws IOException {
        SortedMap<String, String> inputs = TaskKey.hashInputs(Inputs.find(task.workspace(), task.inputs(), excluded), inputHashes);
        inputHashes.save();
        Map<String, String> env = new LinkedHashMap<>();
        for (String name : task.envNames()) {
            env.put(name, environment.get(name));
        }
        return TaskKey.of(inputs, task.command(), env, Toolchains.detect(task.command(), environment));
    }

    public Result run(Task task, Map<String, String> environment, OutputStream out, OutputStream err) throws IOException, InterruptedException {
        long start = System.nanoTime();
        String key = key(task, environment);
        Optional<Manifest> hit = local.lookup(key, verifyOnRead);
        String source = "local";
        if (hit.isEmpty() && remote.isPresent()) {
            hit = remote.get().fetch(key, local, notes);
            source = "remote";
        }
        if (hit.isPresent()) {
            local.restore(hit.get(), task.workspace());
            try (InputStream log = local.log(key)) {
                TerminalLog.replay(log, out, err);
            }
            long ms = (System.nanoTime() - start) / 1_000_000;
            local.updateStats(s -> s.hit(ms));
            return new Result(key, hit.get().exitCode(), source, ms);
        }
        local.updateStats(CacheStats::miss);

        Map<String, Outputs.Seen> before = task.outputs().isEmpty() ? Outputs.snapshot(task.workspace(), excluded) : Map.of();
        long runStart = System.nanoTime();
        Execution.Finished finished = Execution.run(task.command(), task.workspace(), environment, out, err);
        long runMs = (System.nanoTime() - runStart) / 1_000_000;
        if (finished.exitCode() != 0 && !task.cacheFailures()) {
            return new Result(key, finished.exitCode(), "run", runMs);
        }
        long storeStart = System.nanoTime();
        List<Manifest.Output> outputs = task.outputs().isEmpty()
                ? Outputs.changed(task.workspace(), before, excluded)
                : Outputs.matching(task.workspace(), task.outputs(), excluded);
        byte[] log = finished.log();
        Manifest manifest = new Manifest(1, key, task.command(), finished.exitCode(), runMs, Instant.now().toString(), outputs,
                Hashing.sha256(log), log.length);
        local.store(manifest, task.workspace(), log);
        remote.ifPresent(r -> r.save(key, local, notes));
        long storeMs = (System.nanoTime() - storeStart) / 1_000_000;
        local.updateStats(s -> s.stored(storeMs));
        return new Result(key, finished.exitCode(), "run", runMs);
    }
}
