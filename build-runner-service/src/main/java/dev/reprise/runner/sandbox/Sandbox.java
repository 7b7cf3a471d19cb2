package dev.reprise.runner.sandbox;

import dev.reprise.runner.config.RunnerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Where a build's processes run. Every step of a build (the checkout too) runs:
 * <ul>
 * <li>as a uid of its own ({@link BuildUids}), never root, in its own user, PID, IPC and UTS
 * namespaces (bubblewrap), with no capabilities, {@code no_new_privs}, no further user namespaces
 * and a seccomp filter ({@link SeccompFilter});</li>
 * <li>on a read-only view of the host where only its workspace (also its HOME) and a private
 * {@code /tmp} are writable; other workspaces, the task cache and the configured hidden paths
 * (the service's secrets, the local stack's data) are empty;</li>
 * <li>in a network namespace of its own, with its own loopback, and egress to DNS and the
 * internet but not to the node, other builds, private or link-local ranges ({@link BuildNetwork};
 * where that cannot be set up the build gets no network at all);</li>
 * <li>within its memory, process and CPU limits ({@link BuildCgroups}; at least a process limit
 * per uid where control groups are not writable);</li>
 * <li>with the build's variables and nothing of the runner's: the wrapper that starts it runs as
 * root with an empty environment, so no variable of the tenant's is seen by anything privileged.</li>
 * </ul>
 * Mode {@code on} refuses to start when any of this is missing; {@code auto} contains builds as
 * far as the node allows and says what is missing ({@link #isolation()}, logged and on /q/health).
 */
public final class Sandbox {

    private static final Logger LOG = Logger.getLogger(Sandbox.class);
    private static final Path RESOLV_CONF = Path.of("/etc/resolv.conf");
    private static final Path SYSTEMD_RESOLV_CONF = Path.of("/run/systemd/resolve/resolv.conf");
    /** The wrapper's own environment: nothing of the tenant's reaches the privileged part. */
    public static final Map<String, String> LAUNCH_ENV = Map.of("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
    /**
     * Runs as root before the build's uid is taken: joins the build's control groups, opens the
     * seccomp program on fd 3, then becomes the rest of its arguments.
     */
    private static final String WRAPPER = "f=$1; n=$2; shift 2; while ((n > 0)); do echo $$ >\"$1\" || exit 125; shift; n=$((n - 1)); done;"
            + " if [[ -n $f ]]; then exec 3<\"$f\" || exit 125; fi; exec \"$@\"";

    /** What this node gives builds; {@code gaps} names what is missing, empty when builds are fully contained. */
    public record Isolation(boolean namespaces, boolean unprivileged, String network, boolean seccomp, String limits, List<String> gaps) {

        public boolean complete() {
            return gaps.isEmpty();
        }
    }

    private final RunnerConfig.Sandbox config;
    private final boolean namespaces;
    private final boolean root;
    private final Optional<BuildNetwork> network;
    private final Optional<Path> seccomp;
    private final Optional<BuildCgroups> cgroups;
    private final BuildUids uids;
    private final Path workspaceRoot;
    private final List<Path> hidden;
    private final Isolation isolation;
    private final Path files;

    private Sandbox(RunnerConfig config, boolean namespaces, boolean root, Optional<BuildNetwork> network, Optional<Path> seccomp,
            Optional<BuildCgroups> cgroups, List<Path> hidden, List<String> gaps, Path files) {
        this.files = files;
        this.config = config.sandbox();
        this.namespaces = namespaces;
        this.root = root;
        this.network = network;
        this.seccomp = seccomp;
        this.cgroups = cgroups;
        this.uids = new BuildUids(config.sandbox().uidBase(), config.sandbox().uidCount(),
                Path.of(System.getProperty("java.io.tmpdir"), "reprise-build-slots"));
        this.workspaceRoot = Path.of(config.workspaceRoot()).toAbsolutePath().normalize();
        this.hidden = hidden;
        this.isolation = new Isolation(namespaces, namespaces && root, !namespaces ? "host" : network.isPresent() ? "own namespace, internet only" : "none",
                seccomp.isPresent(), cgroups.isPresent() ? "memory, pids, cpu" : root ? "pids per uid" : "none", List.copyOf(gaps));
    }

    /** Sets up what this node allows; throws in mode {@code on} when builds cannot be fully contained. */
    public static Sandbox of(RunnerConfig config) {
        RunnerConfig.Sandbox sandbox = config.sandbox();
        Path root = Path.of(config.workspaceRoot()).toAbsolutePath().normalize();
        Set<Path> hidden = new LinkedHashSet<>();
        hidden.add(root);
        // Sockets of the node's daemons (PostgreSQL's, MariaDB's, D-Bus…): a read-only mount does not stop a connect().
        hidden.add(Path.of("/run"));
        if (config.dependencyCache().enabled()) {
            hidden.add(Path.of(config.dependencyCache().dir()).toAbsolutePath().normalize());
        }
        if (config.taskCache().enabled()) {
            hidden.add(Path.of(config.taskCache().dir()).toAbsolutePath().normalize());
        }
        sandbox.hiddenPaths().orElse(List.of()).stream().filter(p -> !p.isBlank())
                .map(p -> Path.of(p).toAbsolutePath().normalize()).forEach(hidden::add);
        if (sandbox.mode() == RunnerConfig.Sandbox.Mode.OFF) {
            LOG.warn("reprise.runner.sandbox.mode=off: builds run as the runner itself, with its files and network."
                    + " Never do this where builds are not your own");
            try {
                return new Sandbox(config, false, false, Optional.empty(), Optional.empty(), Optional.empty(), List.of(),
                        List.of("sandbox switched off"), writeFiles(Optional.empty()));
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }
        List<String> gaps = new ArrayList<>();
        boolean namespaces = bwrapWorks();
        if (!namespaces) {
            gaps.add("bubblewrap (bwrap) is missing or cannot create user namespaces (apt-get install bubblewrap;"
                    + " allow user namespaces, in Kubernetes hostUsers: false)");
        }
        boolean isRoot = isRoot();
        if (namespaces && !isRoot) {
            gaps.add("the runner is not root, so builds cannot run as uids of their own; they get no network");
        }
        Optional<BuildNetwork> network = Optional.empty();
        if (namespaces && isRoot) {
            List<String> resolvers = BuildNetwork.resolvers(RESOLV_CONF);
            if (resolvers.isEmpty()) {
                resolvers = BuildNetwork.resolvers(SYSTEMD_RESOLV_CONF);
            }
            try {
                if (resolvers.isEmpty()) {
                    throw new IOException("no name server a build could reach in " + RESOLV_CONF + " or " + SYSTEMD_RESOLV_CONF);
                }
                network = Optional.of(BuildNetwork.install(sandbox.network(), sandbox.uidCount(), resolvers,
                        sandbox.egressAllow().orElse(List.of())));
            } catch (IOException | RuntimeException e) {
                gaps.add("the builds' network could not be set up (" + e.getMessage() + "; apt-get install iptables iproute2,"
                        + " CAP_NET_ADMIN), so builds get no network");
            }
        }
        Path files;
        try {
            files = writeFiles(namespaces ? SeccompFilter.forHost() : Optional.empty());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("cannot write the sandbox's files to " + System.getProperty("java.io.tmpdir"), e);
        }
        Optional<Path> seccomp = Optional.of(files.resolve("seccomp.bpf")).filter(Files::exists);
        if (namespaces && seccomp.isEmpty()) {
            gaps.add("no seccomp filter for " + System.getProperty("os.arch"));
        }
        Optional<BuildCgroups> cgroups = namespaces && isRoot
                ? BuildCgroups.open(sandbox.memoryBytes(), sandbox.pids(), sandbox.cpus()) : Optional.empty();
        if (namespaces && cgroups.isEmpty()) {
            gaps.add("control groups are not writable here, so builds have no memory or CPU limit of their own"
                    + (isRoot ? " (a process limit per uid still applies)" : ""));
        }
        if (!gaps.isEmpty() && sandbox.mode() == RunnerConfig.Sandbox.Mode.ON) {
            throw new IllegalStateException("reprise.runner.sandbox.mode=on, but builds cannot be contained here: " + String.join("; ", gaps)
                    + ". Fix that, or set RUNNER_SANDBOX=auto to run them less contained");
        }
        Sandbox result = new Sandbox(config, namespaces, isRoot, network, seccomp, cgroups, List.copyOf(hidden), gaps, files);
        result.clearLeftNetworks();
        if (gaps.isEmpty()) {
            LOG.infof("Build sandbox: %s", result.isolation());
        } else {
            LOG.warnf("BUILDS ARE NOT FULLY CONTAINED on this node: %s. A hostile build could use what is missing.",
                    String.join("; ", gaps));
        }
        return result;
    }

    public Isolation isolation() {
        return isolation;
    }

    /** Removes the network namespaces that runners killed mid-build left under slots nobody holds now. */
    int clearLeftNetworks() {
        if (network.isEmpty()) {
            return 0;
        }
        int cleared = 0;
        for (int slot : BuildNetwork.slotsWithNamespace()) {
            try {
                java.util.OptionalInt uid = uids.takeIfFree(slot);
                if (uid.isPresent()) {
                    try {
                        network.get().remove(new BuildNetwork.Namespace("reprise-build-" + slot));
                        cleared++;
                    } finally {
                        uids.release(uid.getAsInt());
                    }
                }
            } catch (IOException e) {
                LOG.warnf("Could not check build slot %d for a network left behind: %s", slot, e.getMessage());
            }
        }
        if (cleared > 0) {
            LOG.infof("Removed %d build network namespaces left by a runner that stopped mid-build", cleared);
        }
        return cleared;
    }

    /** A running build's share of the sandbox: its uid and control group, given back with {@link #close()}. */
    public final class Lease implements AutoCloseable {
        private final int uid;
        private final Optional<BuildCgroups.Group> group;
        private final Optional<BuildNetwork.Namespace> net;
        private boolean closed;

        private Lease(int uid, Optional<BuildCgroups.Group> group, Optional<BuildNetwork.Namespace> net) {
            this.uid = uid;
            this.group = group;
            this.net = net;
        }

        /** The uid the build runs as (-1: the runner's own). */
        public int uid() {
            return uid;
        }

        /** Kills what is left of the build and gives its uid back; once (a uid given back twice could be another build's by then). */
        @Override
        public synchronized void close() {
            if (closed) {
                return;
            }
            closed = true;
            group.ifPresent(BuildCgroups.Group::close);
            net.ifPresent(n -> network.orElseThrow().remove(n));
            if (uid >= 0) {
                uids.release(uid);
            }
        }
    }

    /** Takes a uid and a control group for a build. */
    public Lease lease(String buildId) throws IOException {
        if (!namespaces || !root) {
            return new Lease(-1, Optional.empty(), Optional.empty());
        }
        int uid = uids.take();
        Optional<BuildNetwork.Namespace> net = Optional.empty();
        try {
            net = network.isPresent() ? Optional.of(network.get().create(uids.slotOf(uid))) : Optional.empty();
            return new Lease(uid, cgroups.isPresent() ? Optional.of(cgroups.get().create(buildId)) : Optional.empty(), net);
        } catch (IOException | RuntimeException e) {
            net.ifPresent(n -> network.orElseThrow().remove(n));
            uids.release(uid);
            throw e;
        }
    }

    /**
     * Creates the build's workspace, owned by its uid and closed to everyone else. The workspace
     * root stays traversable, not listable, so a build's uid can reach its own directory only.
     */
    public void createWorkspace(Path workspace, Lease lease) throws IOException {
        Files.createDirectories(workspaceRoot);
        if (lease.uid() >= 0) {
            Files.setPosixFilePermissions(workspaceRoot, PosixFilePermissions.fromString("rwx--x--x"));
        }
        Files.createDirectories(workspace);
        if (lease.uid() >= 0) {
            Files.setAttribute(workspace, "unix:uid", lease.uid());
            Files.setAttribute(workspace, "unix:gid", lease.uid());
            Files.setPosixFilePermissions(workspace, PosixFilePermissions.fromString("rwx------"));
        }
    }

    /**
     * The command line that runs {@code bash -c command} with exactly {@code env} in the build's
     * workspace; start it with {@link #LAUNCH_ENV} as the process environment. {@code readOnly}:
     * host paths the step may read although hidden (a file:// repository under /tmp, say).
     */
    public List<String> wrap(String command, Path workspace, Map<String, String> env, Lease lease, List<Path> readOnly) {
        List<String> line = new ArrayList<>(List.of("bash", "-c", WRAPPER, "reprise-sandbox"));
        line.add(namespaces ? seccomp.map(Path::toString).orElse("") : "");
        List<Path> procs = lease.group.map(BuildCgroups.Group::procsFiles).orElse(List.of());
        line.add(Integer.toString(procs.size()));
        procs.forEach(p -> line.add(p.toString()));
        line.add("setsid");
        lease.net.ifPresent(n -> line.addAll(List.of("nsenter", "--net=" + n.path())));
        if (namespaces && lease.uid() >= 0) {
            String uid = Integer.toString(lease.uid());
            line.addAll(List.of("prlimit", "--nproc=" + config.pids(), "--core=0", "--",
                    "setpriv", "--reuid", uid, "--regid", uid, "--clear-groups", "--"));
        }
        if (namespaces) {
            Path own = workspace.toAbsolutePath().normalize();
            line.addAll(List.of("bwrap", "--die-with-parent", "--unshare-user", "--unshare-pid", "--unshare-ipc", "--unshare-uts",
                    "--unshare-cgroup-try", "--disable-userns", "--hostname", "reprise-build", "--ro-bind", "/", "/", "--dev", "/dev",
                    "--proc", "/proc", "--size", Long.toString(config.tmpBytes()), "--tmpfs", "/tmp"));
            if (lease.net.isEmpty()) {
                line.add("--unshare-net");
            }
            List<String> readOnlyAfterwards = new ArrayList<>();
            for (Path path : hidden) {
                if (!reachableByOthers(path.getParent())) {
                    // Behind an owner-only directory (a checkout in /root, say): the build's uid cannot reach it
                    // anyway, and bubblewrap, running as that uid, could not mount over it.
                    continue;
                }
                if (Files.isDirectory(path)) {
                    line.addAll(List.of("--tmpfs", path.toString()));
                    if (!path.equals(workspaceRoot)) {
                        readOnlyAfterwards.addAll(List.of("--remount-ro", path.toString()));
                    }
                } else if (Files.exists(path)) {
                    line.addAll(List.of("--ro-bind", "/dev/null", path.toString()));
                }
            }
            for (Path path : readOnly) {
                line.addAll(List.of("--ro-bind", path.toString(), path.toString()));
            }
            line.addAll(List.of("--bind", own.toString(), own.toString()));
            if (lease.uid() >= 0) {
                // The build's uid has an account whose home is its workspace: tools that ask the system, not $HOME,
                // for the user's home (the JVM's user.home: Maven's ~/.m2, Gradle's ~/.gradle) find it there too.
                line.addAll(List.of("--ro-bind", passwd(own, lease.uid()).toString(), "/etc/passwd"));
            }
            // Once what is mounted inside them is in place (bubblewrap's remount is not recursive).
            line.addAll(readOnlyAfterwards);
            line.addAll(List.of("--chdir", own.toString(), "--cap-drop", "ALL"));
            if (seccomp.isPresent()) {
                line.addAll(List.of("--seccomp", "3"));
            }
            line.add("--");
        }
        line.addAll(List.of("env", "-i"));
        new TreeMap<>(env).forEach((name, value) -> line.add(name + "=" + value));
        line.addAll(List.of("bash", "-c", command));
        return line;
    }

    /** True when every directory from the root down to {@code dir} lets other users through (o+x). */
    static boolean reachableByOthers(Path dir) {
        for (Path at = dir; at != null; at = at.getParent()) {
            try {
                if (!Files.getPosixFilePermissions(at).contains(java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE)) {
                    return false;
                }
            } catch (IOException | UnsupportedOperationException e) {
                return false;
            }
        }
        return true;
    }

    /**
     * Git configuration for checking out a local (file://) repository: the builds' uids own no
     * repository, and git refuses one owned by another user unless its global configuration says
     * so (it ignores the setting from the command line or the environment). Read-only to builds.
     */
    public Path localCheckoutGitConfig() {
        return files.resolve("checkout.gitconfig");
    }

    /** What copying a local repository came to: git's exit code (-1: it ran out of time) and what it printed. */
    public record Copied(int exitCode, String output) {
    }

    /**
     * Copies a local (file://) repository to {@code copy}, as the runner, for a checkout that runs as a build's uid:
     * that uid may not reach the original (a repository under /root, or a clone in an owner-only directory), and the
     * build is never shown the directory the original lives in. A bare clone over git's own transport
     * ({@code --no-local}: no hard links to, and no symbolic links followed in, the original's object store), with
     * no configuration but the checkout's and no terminal. Local repositories exist in local mode only (the
     * gateway refuses them elsewhere), where the repository's owner is the node's own user.
     */
    public Copied copyLocalRepository(Path repository, Path copy, java.time.Duration timeout) throws IOException {
        ProcessBuilder git = new ProcessBuilder("git", "clone", "--quiet", "--bare", "--no-local", "--", repository.toString(), copy.toString())
                .redirectErrorStream(true);
        git.environment().clear();
        git.environment().putAll(LAUNCH_ENV);
        git.environment().putAll(Map.of("HOME", files.toString(), "LANG", "C.UTF-8", "GIT_CONFIG_NOSYSTEM", "1",
                "GIT_CONFIG_GLOBAL", localCheckoutGitConfig().toString(), "GIT_TERMINAL_PROMPT", "0"));
        Process process = git.start();
        process.getOutputStream().close();
        java.util.concurrent.CompletableFuture<byte[]> output = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            try (var in = process.getInputStream()) {
                byte[] head = in.readNBytes(16 * 1024);
                in.transferTo(java.io.OutputStream.nullOutputStream());
                return head;
            } catch (IOException e) {
                return new byte[0];
            }
        });
        try {
            boolean exited = process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (!exited) {
                process.destroyForcibly().waitFor();
            }
            String printed = new String(output.get(5, TimeUnit.SECONDS), java.nio.charset.StandardCharsets.UTF_8);
            return new Copied(exited ? process.exitValue() : -1, printed);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            process.destroyForcibly();
            throw new IOException("interrupted while copying " + repository, e);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            return new Copied(process.isAlive() ? -1 : process.exitValue(), "");
        }
    }

    /** The runner's own files for its sandboxes: the seccomp program (only it reads it) and the checkout's git configuration. */
    private static Path writeFiles(Optional<byte[]> seccomp) throws IOException {
        Path dir = Files.createTempDirectory("reprise-sandbox-", PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx--x--x")));
        dir.toFile().deleteOnExit();
        Path config = Files.writeString(dir.resolve("checkout.gitconfig"), "[safe]\n\tdirectory = *\n");
        Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-r--r--"));
        config.toFile().deleteOnExit();
        if (seccomp.isPresent()) {
            Path file = Files.write(dir.resolve("seccomp.bpf"), seccomp.get());
            Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
            file.toFile().deleteOnExit();
        }
        return dir;
    }

    private static boolean isRoot() {
        try {
            return ((Number) Files.getAttribute(Path.of("/proc/self"), "unix:uid")).intValue() == 0;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /**
     * The build's /etc/passwd: the node's accounts and one for the build's uid, named reprise-build,
     * whose home is the workspace. Written beside the workspace (as {@code <workspace>.passwd}, removed
     * with it) and readable by the build, which sees it only at /etc/passwd.
     */
    public static Path passwd(Path workspace, int uid) {
        Path file = passwdOf(workspace);
        try {
            if (!Files.exists(file, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                String node = Files.exists(Path.of("/etc/passwd")) ? Files.readString(Path.of("/etc/passwd")) : "";
                Path written = Files.createTempFile(workspace.getParent(), ".passwd.", ".tmp");
                Files.writeString(written, node + (node.isEmpty() || node.endsWith("\n") ? "" : "\n")
                        + "reprise-build:x:" + uid + ":" + uid + ":Reprise build:" + workspace + ":/bin/bash\n");
                Files.setPosixFilePermissions(written, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
                Files.move(written, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new java.io.UncheckedIOException("could not write the build's passwd file " + file, e);
        }
        return file;
    }

    /** Where {@link #passwd} keeps a workspace's account file. */
    public static Path passwdOf(Path workspace) {
        return workspace.resolveSibling(workspace.getFileName() + ".passwd");
    }

    /** True when bwrap starts a process in new user and PID namespaces here. */
    private static boolean bwrapWorks() {
        try {
            Process probe = new ProcessBuilder("bwrap", "--unshare-user", "--unshare-pid", "--disable-userns", "--ro-bind", "/", "/",
                    "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--cap-drop", "ALL", "true")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return probe.waitFor(10, TimeUnit.SECONDS) && probe.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
