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

    /**
     * How a task ended. {@code source}: local, remote or run; {@code millis} this run's time (the
     * restore on a hit); {@code originalMillis} what the command took when it really ran.
     */
    public record Result(String key, int exitCode, String source, long millis, long originalMillis) {

        public Result(String key, int exitCode, String source, long millis) {
            this(key, exitCode, source, millis, millis);
        }

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
    /** What tools' version options print, remembered by binary (the CLI's); none for a runner. */
    private final ToolVersions toolVersions;
    private final boolean followInputLinks;

    public TaskCache(LocalCache local, Optional<RemoteCache> remote, boolean verifyOnRead, Set<String> excluded, PrintStream notes) {
        this(local, remote, verifyOnRead, excluded, notes, InputHashes.load(local.root()), ToolVersions.load(local.root()), true);
    }

    /**
     * With an index of input hashes of the caller's choosing: {@link InputHashes#none()} where
     * input paths are never seen twice (a runner's per-build workspaces). One instance is used by
     * one thread at a time.
     */
    public TaskCache(LocalCache local, Optional<RemoteCache> remote, boolean verifyOnRead, Set<String> excluded, PrintStream notes,
            InputHashes inputHashes) {
        this(local, remote, verifyOnRead, excluded, notes, inputHashes, true);
    }

    /**
     * {@code followInputLinks} false where the working tree is someone else's (a runner keying a
     * tenant's checkout): symbolic links among the inputs count by their target's text and are
     * never read through.
     */
    public TaskCache(LocalCache local, Optional<RemoteCache> remote, boolean verifyOnRead, Set<String> excluded, PrintStream notes,
            InputHashes inputHashes, boolean followInputLinks) {
        this(local, remote, verifyOnRead, excluded, notes, inputHashes, ToolVersions.none(), followInputLinks);
    }

    private TaskCache(LocalCache local, Optional<RemoteCache> remote, boolean verifyOnRead, Set<String> excluded, PrintStream notes,
            InputHashes inputHashes, ToolVersions toolVersions, boolean followInputLinks) {
        this.toolVersions = toolVersions;
        this.local = local;
        this.remote = remote;
        this.verifyOnRead = verifyOnRead;
        this.excluded = excluded;
        this.notes = notes;
        this.inputHashes = inputHashes;
        this.followInputLinks = followInputLinks;
    }

    /** The task's key (hashes its inputs). */
    public String key(Task task, Map<String, String> environment) throws IOException {
        SortedMap<String, String> inputs = TaskKey.hashInputs(Inputs.find(task.workspace(), task.inputs(), excluded, followInputLinks), inputHashes);
        inputHashes.save();
        Map<String, String> env = new LinkedHashMap<>();
        for (String name : task.envNames()) {
            env.put(name, environment.get(name));
        }
        Map<String, String> toolchains = Toolchains.detect(task.command(), environment, toolVersions);
        toolVersions.save();
        return TaskKey.of(inputs, task.command(), env, toolchains);
    }

    public Result run(Task task, Map<String, String> environment, OutputStream out, OutputStream err) throws IOException, InterruptedException {
        long start = System.nanoTime();
        String key = key(task, environment);
        Optional<Result> hit = restore(task, key, start, out, err);
        if (hit.isPresent()) {
            return hit.get();
        }
        Before before = before(task);
        long runStart = System.nanoTime();
        Execution.Finished finished = Execution.run(task.command(), task.workspace(), environment, out, err);
        long runMs = (System.nanoTime() - runStart) / 1_000_000;
        store(task, key, before, finished.exitCode(), runMs, finished.log());
        return new Result(key, finished.exitCode(), "run", runMs);
    }

    /**
     * Looks the key up (local, then remote); on a hit restores the outputs into the workspace and
     * writes the recorded log to {@code out}/{@code err}, and counts the hit; on a miss counts it.
     * An entry the restore refuses (unsafe, damaged, over the limits, or the workspace in its way)
     * is a miss with a note, and leaves the workspace untouched; an unsafe one is removed.
     *
     * @param startNanos when the caller began (key computation included in the restore time)
     */
    public Optional<Result> restore(Task task, String key, long startNanos, OutputStream out, OutputStream err) throws IOException {
        Optional<Manifest> hit = local.lookup(key, verifyOnRead);
        String source = "local";
        if (hit.isEmpty() && remote.isPresent()) {
            hit = remote.get().fetch(key, local, notes);
            source = "remote";
        }
        if (hit.isPresent()) {
            try {
                local.restore(hit.get(), task.workspace());
            } catch (RefusedEntry e) {
                notes.println("reprise: not restoring the " + source + " entry " + key + ": " + e.getMessage() + "; running the task");
                if (e.entryAtFault()) {
                    local.evict(key);
                }
                hit = Optional.empty();
            }
        }
        if (hit.isEmpty()) {
            local.updateStats(CacheStats::miss);
            return Optional.empty();
        }
        try (InputStream log = local.log(key)) {
            TerminalLog.replay(log, out, err);
        }
        long ms = (System.nanoTime() - startNanos) / 1_000_000;
        local.updateStats(s -> s.hit(ms));
        return Optional.of(new Result(key, hit.get().exitCode(), source, ms, hit.get().durationMs()));
    }

    /** The workspace as it is before the task runs: what a task without declared outputs is compared against. */
    public Before before(Task task) {
        return new Before(task.outputs().isEmpty() ? Outputs.snapshot(task.workspace(), excluded) : Map.of());
    }

    /**
     * Stores what the task produced (declared outputs, or what changed since {@code before}) with
     * its log, locally then remotely; a failed task only when the task asks for it. Outputs a
     * restore would refuse (a symlink leaving the tree, a file replaced by a symlink while being
     * stored, more than the limits) are not stored: a note says why.
     *
     * @return true when an entry was stored
     */
    public boolean store(Task task, String key, Before before, int exitCode, long runMs, byte[] log) throws IOException {
        if (exitCode != 0 && !task.cacheFailures()) {
            return false;
        }
        long storeStart = System.nanoTime();
        try {
            List<Manifest.Output> outputs = task.outputs().isEmpty()
                    ? Outputs.changed(task.workspace(), before.seen, excluded)
                    : Outputs.matching(task.workspace(), task.outputs(), excluded);
            Manifest manifest = new Manifest(1, key, task.command(), exitCode, runMs, Instant.now().toString(), outputs,
                    Hashing.sha256(log), log.length);
            local.store(manifest, task.workspace(), log);
        } catch (RefusedEntry e) {
            notes.println("reprise: not caching this run: " + e.getMessage());
            return false;
        }
        remote.ifPresent(r -> r.save(key, local, notes));
        long storeMs = (System.nanoTime() - storeStart) / 1_000_000;
        local.updateStats(s -> s.stored(storeMs));
        return true;
    }

    /** A snapshot taken by {@link #before}; opaque to callers. */
    public static final class Before {
        private final Map<String, Outputs.Seen> seen;

        private Before(Map<String, Outputs.Seen> seen) {
            this.seen = seen;
        }
    }
}
