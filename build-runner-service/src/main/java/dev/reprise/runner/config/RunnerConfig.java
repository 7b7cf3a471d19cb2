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
        @WithDefault(".git,.m2,.gradle,.npm,.cache,.reprise-cache")
        List<String> exclude();

        /** The local cache is pruned, least recently used first, down to this many bytes. */
        @WithDefault("10737418240")
        long maxBytes();

        /** Entries unused for this long are pruned. */
        @WithDefault("30d")
        Duration maxAge();
    }
}
