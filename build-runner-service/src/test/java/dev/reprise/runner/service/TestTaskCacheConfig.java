package dev.reprise.runner.service;

import dev.reprise.runner.config.RunnerConfig;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** A task-cache configuration for tests that build executors by hand. */
record TestTaskCacheConfig(boolean enabled, String dir, Optional<URI> remoteUrl, long maxBytes) implements RunnerConfig.TaskCache {

    static TestTaskCacheConfig off() {
        return new TestTaskCacheConfig(false, "target/unused-task-cache", Optional.empty(), Long.MAX_VALUE);
    }

    static TestTaskCacheConfig at(Path dir) {
        return new TestTaskCacheConfig(true, dir.toString(), Optional.empty(), Long.MAX_VALUE);
    }

    @Override
    public Optional<String> token() {
        return Optional.of("test-token");
    }

    @Override
    public Duration remoteTimeout() {
        return Duration.ofSeconds(2);
    }

    @Override
    public boolean verifyOnRead() {
        return true;
    }

    @Override
    public List<String> exclude() {
        return List.of(".git", ".m2", ".cache");
    }

    @Override
    public Duration maxAge() {
        return Duration.ofDays(30);
    }
}
