package dev.reprise.gateway.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Map;

/** How the gateway accepts builds and keys them. */
@ConfigMapping(prefix = "reprise.builds")
public interface BuildsConfig {

    /** Base of the WebSocket URL clients stream a build from (the replay service serves it). */
    @WithDefault("ws://127.0.0.1:8082")
    String streamBaseUrl();

    /** Version of the runner image and its build logic; part of every cache key. */
    @WithDefault("1")
    String runnerVersion();

    /** Digest of the image builds run in; part of every cache key. */
    @WithDefault("none")
    String imageDigest();

    /** Tool versions the runners use (e.g. maven=3.8.7); part of the cache key of that tool's builds. */
    Map<String, String> toolVersions();

    /** How long asking the cache index (replay-service) may take; slower is a miss, the build runs live. */
    @WithDefault("2s")
    Duration lookupTimeout();

    /** How long resolving a ref against the repository may take. */
    @WithDefault("20s")
    Duration refResolutionTimeout();
}
