package dev.reprise.runner.service;

import dev.reprise.events.BuildEvent;
import dev.reprise.events.BuildOutput;
import dev.reprise.events.OutputStream;
import dev.reprise.events.StepFinished;
import dev.reprise.events.StepStarted;
import dev.reprise.runner.config.RunnerConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;

/** A runner configuration for tests that build executors by hand, and views of the events they emit. */
public record TestRunnerConfig(Path workspaces, int timeoutSeconds, long outputCapBytes, long workspaceCapBytes, TaskCache taskCache,
        Container container, Sandbox sandbox)
        implements RunnerConfig {

    public TestRunnerConfig(Path workspaces, int timeoutSeconds) {
        this(workspaces, timeoutSeconds, 16 << 20, 1L << 30, TestTaskCacheConfig.off(), null, sandbox(Sandbox.Mode.AUTO, List.of()));
    }

    public TestRunnerConfig withContainer(Container executor) {
        return new TestRunnerConfig(workspaces, timeoutSeconds, outputCapBytes, workspaceCapBytes, taskCache, executor, sandbox);
    }

    public TestRunnerConfig withOutputCap(long bytes) {
        return new TestRunnerConfig(workspaces, timeoutSeconds, bytes, workspaceCapBytes, taskCache, container, sandbox);
    }

    public TestRunnerConfig withWorkspaceCap(long bytes) {
        return new TestRunnerConfig(workspaces, timeoutSeconds, outputCapBytes, bytes, taskCache, container, sandbox);
    }

    /**
     * No sandbox: for tests of other parts whose builds must leave traces on the host (a file
     * counting the runs); the sandbox has tests of its own.
     */
    public TestRunnerConfig withoutSandbox() {
        return new TestRunnerConfig(workspaces, timeoutSeconds, outputCapBytes, workspaceCapBytes, taskCache, container,
                sandbox(Sandbox.Mode.OFF, List.of()));
    }

    /** The sandbox required ({@code on}), hiding these paths as well. */
    public TestRunnerConfig withSandbox(List<String> hiddenPaths) {
        return new TestRunnerConfig(workspaces, timeoutSeconds, outputCapBytes, workspaceCapBytes, taskCache, container,
                sandbox(Sandbox.Mode.ON, hiddenPaths));
    }

    static Sandbox sandbox(Sandbox.Mode mode, List<String> hiddenPaths) {
        return new Sandbox() {
            public Mode mode() {
                return mode;
            }

            public Optional<List<String>> hiddenPaths() {
                return Optional.of(hiddenPaths);
            }

            public int uidBase() {
                return 100000;
            }

            public int uidCount() {
                return 1000;
            }

            public String network() {
                return "100.127.0.0/16";
            }

            public Optional<List<String>> egressAllow() {
                return Optional.empty();
            }

            public long memoryBytes() {
                return 2L << 30;
            }

            public long pids() {
                return 512;
            }

            public double cpus() {
                return 2;
            }

            public long tmpBytes() {
                return 256L << 20;
            }
        };
    }

    @Override
    public DependencyCache dependencyCache() {
        return TestDependencyCacheConfig.off();
    }

    @Override
    public Duration workspaceCheckInterval() {
        return Duration.ofMillis(200);
    }

    @Override
    public Optional<String> id() {
        return Optional.of("test-runner");
    }

    @Override
    public String workspaceRoot() {
        return workspaces.toString();
    }

    @Override
    public Duration defaultTimeout() {
        return Duration.ofSeconds(timeoutSeconds);
    }

    @Override
    public Duration maxTimeout() {
        return Duration.ofHours(1);
    }

    @Override
    public List<String> envAllowList() {
        return List.of("PATH", "LANG");
    }

    @Override
    public Duration killGrace() {
        return Duration.ofSeconds(1);
    }

    @Override
    public Duration heartbeatInterval() {
        return Duration.ofSeconds(5);
    }

    @Override
    public int tenantShare() {
        return 0;
    }

    @Override
    public Duration tenantRequeueDelay() {
        return Duration.ofSeconds(1);
    }

    @Override
    public Duration heartbeatStaleAfter() {
        return Duration.ofSeconds(20);
    }

    /** "start NAME" and "finish NAME EXIT" for each step, in order. */
    public static List<String> steps(List<BuildEvent> events) {
        List<String> steps = new ArrayList<>();
        for (BuildEvent event : List.copyOf(events)) {
            if (event instanceof StepStarted s) {
                steps.add("start " + s.name());
            } else if (event instanceof StepFinished f) {
                steps.add("finish " + f.name() + " " + f.exitCode());
            }
        }
        return steps;
    }

    /** Everything the build printed on one stream, in order. */
    public static String output(List<BuildEvent> events, OutputStream stream) {
        return List.copyOf(events).stream().filter(e -> e instanceof BuildOutput o && o.stream() == stream)
                .map(e -> ((BuildOutput) e).chunk()).collect(Collectors.joining());
    }
}
