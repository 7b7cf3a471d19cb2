package dev.reprise.runner.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
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
}
