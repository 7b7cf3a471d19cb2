package dev.reprise.gateway.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import io.quarkus.runtime.configuration.MemorySize;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;

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

    /**
     * Repository hosts on private networks (loopback, RFC 1918, link-local and cloud metadata, CGNAT,
     * IPv6 unique-local …) the gateway may still contact: host names, {@code *.domain}, CIDR blocks.
     * Every other private host is a 400; where file:// repositories are allowed, all are.
     */
    Optional<List<String>> privateHostsAllowed();

    /** How long resolving a ref (git ls-remote) may take; then git and all it started are killed. */
    @WithDefault("20s")
    Duration refResolutionTimeout();

    /** The most git ls-remote may print; a remote answering with more is refused. */
    @WithDefault("1M")
    MemorySize refResolutionMaxOutput();

    /** Address space each process of a ref resolution (git, its remote helper, ssh) may use. */
    @WithDefault("256M")
    MemorySize refResolutionMaxMemory();

    /** Ref resolutions one tenant may have running at once; more are 429. */
    @WithDefault("4")
    int refResolutionsPerTenant();

    /** Ref resolutions the gateway runs at once over all tenants; more are 429. */
    @WithDefault("32")
    int refResolutionsTotal();

    /**
     * known_hosts file ssh:// repositories' host keys are checked against when resolving refs; unset,
     * any key is accepted (the gateway only learns a commit id; the runners' checkout is separate).
     */
    Optional<String> sshKnownHosts();
}
