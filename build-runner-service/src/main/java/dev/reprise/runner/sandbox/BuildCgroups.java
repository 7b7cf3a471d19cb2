package dev.reprise.runner.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * Memory, process-count and CPU limits per build, as a control group of its own below the
 * runner's (cgroup v1 controllers memory, pids and cpu, or a cgroup v2 child with those
 * controllers enabled). The sandbox's wrapper moves the step's first process into the group
 * before anything of the build runs, so nothing it starts escapes the limits.
 */
public final class BuildCgroups {

    private static final Logger LOG = Logger.getLogger(BuildCgroups.class);
    private static final Path ROOT = Path.of("/sys/fs/cgroup");

    private final boolean v2;
    /** v1: one directory per controller (memory, pids, cpu); v2: the single parent. */
    private final List<Path> parents;
    private final long memoryBytes;
    private final long pids;
    private final double cpus;

    private BuildCgroups(boolean v2, List<Path> parents, long memoryBytes, long pids, double cpus) {
        this.v2 = v2;
        this.parents = parents;
        this.memoryBytes = memoryBytes;
        this.pids = pids;
        this.cpus = cpus;
    }

    /** The runner's control groups where it may create children; empty (with the reason logged) where it may not. */
    public static Optional<BuildCgroups> open(long memoryBytes, long pids, double cpus) {
        try {
            List<String> lines = Files.readAllLines(Path.of("/proc/self/cgroup"));
            if (Files.exists(ROOT.resolve("cgroup.controllers"))) {
                String own = lines.stream().filter(l -> l.startsWith("0::")).map(l -> l.substring(3)).findFirst().orElse("/");
                Path parent = ROOT.resolve(own.substring(1));
                Path runner = parent.resolve("runner");
                // cgroup v2 lets only leaves hold processes: the runner moves into a leaf of its own first.
                Files.createDirectories(runner);
                Files.writeString(runner.resolve("cgroup.procs"), "0");
                Files.writeString(parent.resolve("cgroup.subtree_control"), "+memory +pids +cpu");
                return Optional.of(new BuildCgroups(true, List.of(parent), memoryBytes, pids, cpus));
            }
            List<Path> parents = new ArrayList<>();
            for (String controller : List.of("memory", "pids", "cpu")) {
                String own = lines.stream().map(l -> l.split(":", 3)).filter(f -> f.length == 3 && List.of(f[1].split(",")).contains(controller))
                        .map(f -> f[2]).findFirst().orElseThrow(() -> new IOException("no " + controller + " controller"));
                Path parent = ROOT.resolve(controller).resolve(own.substring(1)).resolve("reprise-builds");
                Files.createDirectories(parent);
                parents.add(parent);
            }
            parents.forEach(BuildCgroups::removeLeftovers);
            return Optional.of(new BuildCgroups(false, parents, memoryBytes, pids, cpus));
        } catch (IOException | RuntimeException e) {
            LOG.debugf("No cgroups for build limits: %s", e.toString());
            return Optional.empty();
        }
    }

    /** A build's group with its limits set; {@link Group#close()} kills what is left in it and removes it. */
    public Group create(String buildId) throws IOException {
        List<Path> dirs = new ArrayList<>();
        try {
            for (Path parent : parents) {
                Path dir = parent.resolve("build-" + buildId);
                Files.createDirectories(dir);
                dirs.add(dir);
            }
            long quota = Math.max(1000, (long) (cpus * 100_000));
            if (v2) {
                Path dir = dirs.get(0);
                Files.writeString(dir.resolve("memory.max"), Long.toString(memoryBytes));
                write(dir.resolve("memory.swap.max"), "0");
                Files.writeString(dir.resolve("pids.max"), Long.toString(pids));
                Files.writeString(dir.resolve("cpu.max"), quota + " 100000");
            } else {
                Files.writeString(dirs.get(0).resolve("memory.limit_in_bytes"), Long.toString(memoryBytes));
                write(dirs.get(0).resolve("memory.memsw.limit_in_bytes"), Long.toString(memoryBytes));
                Files.writeString(dirs.get(1).resolve("pids.max"), Long.toString(pids));
                Files.writeString(dirs.get(2).resolve("cpu.cfs_period_us"), "100000");
                Files.writeString(dirs.get(2).resolve("cpu.cfs_quota_us"), Long.toString(quota));
            }
            return new Group(dirs);
        } catch (IOException | RuntimeException e) {
            new Group(dirs).close();
            throw e instanceof IOException io ? io : new IOException(e);
        }
    }

    /**
     * Groups of builds a runner left behind when it was killed (their processes died with it, see
     * bubblewrap's --die-with-parent): removed, or, if one still holds a process, emptied first.
     * Only groups of builds that are not running here: a fresh runner runs none yet.
     */
    private static void removeLeftovers(Path parent) {
        try (var children = Files.list(parent)) {
            children.filter(p -> p.getFileName().toString().startsWith("build-") && Files.isDirectory(p))
                    .forEach(dir -> new Group(List.of(dir)).close());
        } catch (IOException e) {
            LOG.debugf("Could not list %s: %s", parent, e.getMessage());
        }
    }

    /** Optional knobs (swap accounting may be off): a failure to set one is not a failure to limit. */
    private static void write(Path file, String value) {
        try {
            Files.writeString(file, value);
        } catch (IOException e) {
            // not available on this kernel
        }
    }

    /** One build's control group(s). */
    public static final class Group implements AutoCloseable {
        private final List<Path> dirs;

        Group(List<Path> dirs) {
            this.dirs = dirs;
        }

        /** The cgroup.procs files a step's first process writes itself into. */
        public List<Path> procsFiles() {
            return dirs.stream().map(d -> d.resolve("cgroup.procs")).toList();
        }

        /** Kills whatever the build left running, then removes the group. */
        @Override
        public void close() {
            for (int attempt = 0; attempt < 50 && dirs.stream().anyMatch(Files::exists); attempt++) {
                for (Path dir : dirs) {
                    try {
                        for (String pid : Files.readAllLines(dir.resolve("cgroup.procs"))) {
                            ProcessHandle.of(Long.parseLong(pid.strip())).ifPresent(ProcessHandle::destroyForcibly);
                        }
                        Files.deleteIfExists(dir);
                    } catch (IOException | RuntimeException e) {
                        // still busy: its processes are dying; try again shortly
                    }
                }
                if (dirs.stream().anyMatch(Files::exists)) {
                    try {
                        Thread.sleep(20);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                }
            }
        }
    }
}
