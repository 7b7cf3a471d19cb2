package dev.reprise.runner.service;

import dev.reprise.runner.config.RunnerConfig;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** A dependency cache configuration for tests that build executors by hand. */
record TestDependencyCacheConfig(boolean enabled, URI url, Optional<String> secret, String dir, long maxRestoreBytes)
        implements RunnerConfig.DependencyCache {

    static final String SECRET = "reprise-test-stream-secret-0123456789";

    static TestDependencyCacheConfig off() {
        return new TestDependencyCacheConfig(false, URI.create("http://127.0.0.1:9"), Optional.empty(), "target/unused-dependency-cache",
                1L << 30);
    }

    static TestDependencyCacheConfig at(URI url, java.nio.file.Path dir) {
        return new TestDependencyCacheConfig(true, url, Optional.of(SECRET), dir.toString(), 1L << 30);
    }

    @Override
    public Duration timeout() {
        return Duration.ofSeconds(10);
    }

    @Override
    public long maxArchiveBytes() {
        return 1L << 30;
    }

    @Override
    public long maxRestoreEntries() {
        return 100_000;
    }

    @Override
    public List<String> envKeyed() {
        return List.of("NODE_ENV");
    }
}
