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

    /**
     * The secret gateway-service and replay-service share (REPRISE_STREAM_SECRET, 16+ characters):
     * stream tickets in every streamUrl and the service token on calls to replay-service derive from it.
     */
    String streamSecret();

    /** How long a streamUrl's ticket opens its stream; GET /api/v1/builds/{id} hands out a fresh one. */
    @WithDefault("1h")
    Duration streamTicketTtl();

    /**
     * Whether builds of file:// repositories are accepted. They read the gateway's and runner's own
     * disks, so they are for local mode and tests only (./reprise up turns them on); off, they get 400.
     */
    @WithDefault("false")
    boolean allowFileRepositories();

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
