package dev.reprise.image.config;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** How images are built, stored and kept. */
@ConfigMapping(prefix = "reprise.images")
public interface ImageConfig {

    /** Off: resolve answers with the base image and nothing is built. */
    @WithDefault("true")
    boolean enabled();

    /** The Docker Engine API: a Docker daemon, or podman's compatible service (unix:// or tcp://). */
    @WithDefault("unix:///var/run/docker.sock")
    String dockerHost();

    /** The OCI registry images are pushed to, as host:port. */
    @WithDefault("127.0.0.1:5000")
    String registry();

    /** Talk plain HTTP to registries listed here (host:port); every other registry is HTTPS. */
    @WithDefault("127.0.0.1:5000,localhost:5000")
    List<String> insecureRegistries();

    /** The repository (under the registry) images are pushed to; the tag is derived from the dependency hash. */
    @WithDefault("reprise/deps")
    String repository();

    /** The base image of a set that names none. */
    @WithDefault("127.0.0.1:5000/reprise/base:bookworm")
    String defaultBaseImage();

    /** The most images kept; prune removes the least used above it. 0: no limit (seed 003), never "keep none". */
    @WithDefault("200")
    int maxImages();

    /** Images unused for this many days are removed by the daily prune (0: never). */
    @WithDefault("30")
    int autoPruneDays();

    /** The longest one image build may take. */
    @WithDefault("30m")
    Duration buildTimeout();

    /** Image builds run at once by this instance. */
    @WithDefault("1")
    int buildConcurrency();

    /** Common configurations built in the background at start-up (never blocking readiness). */
    Prebuild prebuild();

    interface Prebuild {

        /** Build the common configuration at start-up. */
        @WithDefault("false")
        boolean enabled();

        /** Common apt packages (name or name=version). */
        Optional<List<String>> apt();

        /** Common npm packages (name or name@version). */
        Optional<List<String>> npm();

        /** Common pip packages (name or name==version). */
        Optional<List<String>> pip();
    }
}
