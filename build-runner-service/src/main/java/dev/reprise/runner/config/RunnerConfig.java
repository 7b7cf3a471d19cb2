package dev.reprise.runner.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** How this runner executes builds. */
@ConfigMapping(prefix = "reprise.runner")
public interface RunnerConfig {

    /** This runner's name in events and the executions table; defaults to host name + random suffix. */
    Optional<String> id();

    /** Where per-build workspaces are created (each removed after its build). */
    @WithDefault("${java.io.tmpdir}/reprise-workspaces")
    String workspaceRoot();

    /** Wall-clock limit of a build that asks for none. */
    @WithDefault("30m")
    Duration defaultTimeout();

    /** The most a build may ask for. */
    @WithDefault("2h")
    Duration maxTimeout();

    /** A build printing more than this many bytes is stopped and fails. */
    @WithDefault("16777216")
    long outputCapBytes();

    /**
     * A build whose workspace grows past this many bytes on disk is stopped and fails (10 GiB):
     * one build cannot fill the runner's disk for the others.
     */
    @WithDefault("10737418240")
    long workspaceCapBytes();

    /** How often a running step's workspace is measured against {@link #workspaceCapBytes()}. */
    @WithDefault("2s")
    Duration workspaceCheckInterval();

    /**
     * A tenant's fair share of the runners: with {@code tenantShare} of its builds running (on all runners together),
     * a tenant's next request does not take this runner's last free slot; it goes back to the end of the queue
     * (after {@link #tenantRequeueDelay()}) so another tenant's build waiting behind it gets that slot. Free slots
     * beyond the last are used by anyone. 0: no share.
     */
    @WithDefault("2")
    int tenantShare();

    /** How long a request over its tenant's share waits before it is queued again (the queue is not spun hot). */
    @WithDefault("1s")
    Duration tenantRequeueDelay();

    /** Where a build's processes run: unprivileged, contained, and shown only their own workspace (see the README's security model). */
    Sandbox sandbox();

    interface Sandbox {

        /**
         * on: refuse to start unless builds can be fully contained (bubblewrap, root to switch to
         * the build uids, the egress firewall); auto: contain them as far as this node allows and
         * say what is missing (log and /q/health); off: builds run as the runner (tests only).
         */
        @WithDefault("auto")
        Mode mode();

        /** More directories builds must not see (beside the workspace root and the task cache): the service's home, say. */
        Optional<List<String>> hiddenPaths();

        /** The first uid builds run as: one uid per running build from this range, owned by no account. */
        @WithDefault("100000")
        int uidBase();

        /** How many uids the range holds (the most builds one runner node runs at once). */
        @WithDefault("1000")
        int uidCount();

        /**
         * The IPv4 pool builds' network namespaces take a /30 each from (one per uid of the range);
         * inside a carrier-grade range builds may not reach anyway.
         */
        @WithDefault("100.127.0.0/16")
        String network();

        /** Address ranges (CIDR) builds may reach although private: an internal package mirror, say. */
        Optional<List<String>> egressAllow();

        /** Memory a build's processes may use together, in bytes. */
        @WithDefault("4294967296")
        long memoryBytes();

        /** Processes (and threads) a build may run at once. */
        @WithDefault("4096")
        long pids();

        /** CPUs a build may use. */
        @WithDefault("2")
        double cpus();

        /** Size of a build's private /tmp (memory-backed, counted against its memory). */
        @WithDefault("1073741824")
        long tmpBytes();

        enum Mode { AUTO, ON, OFF }
    }

    /** Variables of the runner's own environment that builds may see; everything else is scrubbed. */
    @WithDefault("PATH,JAVA_HOME,MAVEN_OPTS,GRADLE_OPTS,LANG")
    List<String> envAllowList();

    /** How often this runner proves it still runs its builds. */
    @WithDefault("5s")
    Duration heartbeatInterval();

    /** A running build whose heartbeat is older than this is taken as lost with its runner. */
    @WithDefault("20s")
    Duration heartbeatStaleAfter();

    /** How long a killed build's process group gets between SIGTERM and SIGKILL. */
    @WithDefault("2s")
    Duration killGrace();

    /** The task-output cache each build's build step goes through. */
    TaskCache taskCache();

    /** Where a step's outputs and log are kept, and for how long. */
    interface TaskCache {

        /** Off: every build step runs, nothing is stored. */
        @WithDefault("true")
        boolean enabled();

        /** The local cache directory; runners sharing a volume may share it (entries are renamed into place). */
        @WithDefault("${java.io.tmpdir}/reprise-task-cache")
        String dir();

        /** The artifact service as the second level (e.g. http://artifact:8083); unset: local only. */
        Optional<URI> remoteUrl();

        /** A read-write token of the artifact service's tenant for the remote level. */
        Optional<String> token();

        /** Timeout of each remote call; a slow remote is a miss, never a failed build. */
        @WithDefault("10s")
        Duration remoteTimeout();

        /** Re-hash every file of an entry before restoring it (a damaged entry is a miss). */
        @WithDefault("true")
        boolean verifyOnRead();

        /** Workspace paths that are neither inputs nor outputs: VCS data and tool caches under HOME. */
        @WithDefault(".git,.m2,.gradle,.npm,.cache,.cargo,.local,.reprise-cache")
        List<String> exclude();

        /** The local cache is pruned, least recently used first, down to this many bytes. */
        @WithDefault("10737418240")
        long maxBytes();

        /** Entries unused for this long are pruned. */
        @WithDefault("30d")
        Duration maxAge();
    }

    /** Each build's dependency directories (~/.m2, ~/.npm…), restored from and saved to artifact-service. */
    DependencyCache dependencyCache();

    /** Where and how builds' dependency caches are kept (see the README's "Dependency caches"). */
    interface DependencyCache {

        /** Off: builds start with an empty HOME and download their dependencies every time. */
        @WithDefault("true")
        boolean enabled();

        /** artifact-service (its {@code /api/v1/deps} door), e.g. http://artifact:8083. */
        @WithDefault("http://127.0.0.1:8083")
        URI url();

        /**
         * The secret shared with artifact-service (REPRISE_STREAM_SECRET): each build's requests carry a
         * ticket signed with it for the build's tenant, valid until the build's deadline. Unset: off.
         */
        Optional<String> secret();

        /** Timeout of each call to artifact-service; a slow store is a miss, never a failed build. */
        @WithDefault("30s")
        Duration timeout();

        /** Dependency directories larger than this (compressed) are not saved. */
        @WithDefault("4294967296")
        long maxArchiveBytes();

        /** A restore stops (and is a miss) past this many uncompressed bytes or entries. */
        @WithDefault("10737418240")
        long maxRestoreBytes();

        @WithDefault("1000000")
        long maxRestoreEntries();

        /** Where archives are downloaded and packed: the runner's own, hidden from builds. */
        @WithDefault("${java.io.tmpdir}/reprise-dependency-cache")
        String dir();

        /** Request variables that change what gets installed, and so are part of the key. */
        @WithDefault(dev.reprise.taskcache.DependencyPlan.ENV_KEYED)
        List<String> envKeyed();
    }

    /** The container executor: builds run in an image pre-built for their dependency set. */
    Container container();

    /** Where and how builds run in containers. */
    interface Container {

        /** auto: builds whose checkout has the spec file run in a container; always: every build; never: none. */
        @WithDefault("auto")
        Mode mode();

        /** The Docker Engine API (a Docker daemon, or podman's compatible service). */
        @WithDefault("unix:///var/run/docker.sock")
        String dockerHost();

        /** The image-cache service that resolves a dependency set to an image; unset: always the default image. */
        Optional<URI> imageCacheUrl();

        /** The API token the runner sends to the image-cache service (any tenant's; read-write lets a miss build). */
        Optional<String> imageCacheToken();

        /** Where to read that token when it is not set (local mode: the gateway's development token file). */
        Optional<java.nio.file.Path> imageCacheTokenFile();

        /** The image of a build that declares no dependencies, and the fallback. */
        @WithDefault("127.0.0.1:5000/reprise/base:bookworm")
        String defaultImage();

        /** The build's image spec in the checkout: {"baseImage": …, "dependencies": [{"type","name","version"}…]}. */
        @WithDefault(".reprise/image.json")
        String specFile();

        /** On a miss, wait for the image to be built, or run at once in the default image. */
        @WithDefault("wait")
        OnMiss onMiss();

        /** The longest a build waits for its image. */
        @WithDefault("15m")
        Duration waitTimeout();

        /** CPUs a build container may use. */
        @WithDefault("2")
        double cpus();

        /** Memory a build container may use, in bytes (no swap beyond it). */
        @WithDefault("4294967296")
        long memoryBytes();

        /** Processes a build container may run at once. */
        @WithDefault("4096")
        long pidsLimit();

        enum Mode { AUTO, ALWAYS, NEVER }

        enum OnMiss { WAIT, BASE }
    }
}
