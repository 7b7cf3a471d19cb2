package dev.reprise.runner.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reprise.events.BuildEvent;
import dev.reprise.events.BuildOutput;
import dev.reprise.events.BuildRequested;
import dev.reprise.events.BuildStatus;
import dev.reprise.events.StepCacheResult;
import dev.reprise.events.StepFinished;
import dev.reprise.events.StepStarted;
import dev.reprise.runner.config.RunnerConfig;
import dev.reprise.taskcache.LocalCache;
import dev.reprise.testing.TestGitRepo;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The build step through the task-output cache, with real git repositories, real processes and a
 * real cache directory; only Kafka is replaced by a list. Each build script appends to a file
 * outside the workspace, so the tests see whether the command really ran.
 */
class StepCacheExecutorTest {

    @TempDir
    Path tmp;

    /** Traversable by the builds' own uids, which reach their workspaces under it (JUnit makes it owner-only). */
    @org.junit.jupiter.api.BeforeEach
    void openTemporaryDirectory() throws java.io.IOException {
        java.nio.file.Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    private Path runs;
    private TestGitRepo repo;
    private StepCache stepCache;

    @BeforeEach
    void setUp() throws IOException {
        runs = tmp.resolve("runs.log");
        stepCache = new StepCache(TestTaskCacheConfig.at(tmp.resolve("task-cache")), metrics);
    }

    @Test
    void theSameTreeBuiltAgainIsAHitWithTheSameOutputInOrderAndExitCodeWithoutRunning() throws Exception {
        String sha = repository("echo compiling; sleep 0.2; echo 'warning: é' >&2; sleep 0.2; echo done; mkdir -p out;"
                + " echo artefact > out/a.txt");

        List<BuildEvent> first = build(sha, false);
        List<BuildEvent> second = build(sha, false);

        assertThat(Files.readAllLines(runs)).as("the command ran once").hasSize(1);
        assertThat(cacheResult(first).result()).isEqualTo("miss");
        StepCacheResult hit = cacheResult(second);
        assertThat(hit.result()).isEqualTo("hit");
        assertThat(hit.source()).isEqualTo("local");
        assertThat(hit.key()).isEqualTo(cacheResult(first).key()).hasSize(64);
        assertThat(hit.savedMs()).as("the recorded step took at least its sleep").isGreaterThan(100);
        assertThat(outputs(second)).as("stdout and stderr interleaved as recorded").isEqualTo(outputs(first));
        assertThat(outputs(second)).containsExactly("out:compiling\n", "err:warning: é\n", "out:done\n");
        assertThat(stepNames(second)).containsExactly("start checkout", "finish checkout 0", "start build", "cache build hit",
                "finish build 0");
        assertThat(metrics.counter("reprise.runner.step.cache", "result", "hit").count()).isEqualTo(1);
        assertThat(metrics.counter("reprise.runner.step.cache", "result", "miss").count()).isEqualTo(1);
    }

    @Test
    void concurrentBuildsShareOneCacheWithoutFailing() throws Exception {
        String sha = repository("echo concurrent; sleep 0.2");
        String other = repo.commitBuildScript(counted("echo other; sleep 0.2"));
        List<java.util.concurrent.CompletableFuture<List<BuildEvent>>> builds = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
            String commit = i % 2 == 0 ? sha : other;
            builds.add(java.util.concurrent.CompletableFuture.supplyAsync(() -> build(commit, false)));
        }

        for (var build : builds) {
            List<BuildEvent> events = build.get(60, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(finished(events).exitCode()).isZero();
            assertThat(cacheResult(events).result()).isIn("hit", "miss");
        }
        assertThat(cacheResult(build(sha, false)).result()).isEqualTo("hit");
    }

    @Test
    void aMissStoresWhatTheStepProducedNotItsInputsNorToolCaches() throws Exception {
        String sha = repository("mkdir -p out .m2/repository; printf 'bytes\\001\\002' > out/bin; chmod 755 out/bin;"
                + " echo jar > .m2/repository/dep.jar; echo built");
        String key = cacheResult(build(sha, false)).key();

        LocalCache local = new LocalCache(tmp.resolve("task-cache"));
        var manifest = local.lookup(key, true).orElseThrow();
        assertThat(manifest.outputs()).extracting(o -> o.path()).contains("out/bin")
                .noneMatch(path -> path.equals("build.sh") || path.startsWith(".m2") || path.startsWith(".git"));
        Path restoredInto = Files.createDirectories(tmp.resolve("restore-check"));
        local.restore(manifest, restoredInto);
        assertThat(Files.readAllBytes(restoredInto.resolve("out/bin"))).containsExactly('b', 'y', 't', 'e', 's', 1, 2);
        assertThat(Files.isExecutable(restoredInto.resolve("out/bin"))).isTrue();
    }

    @Test
    void aChangedTreeIsAMissAndRuns() throws Exception {
        String first = repository("echo v1");
        String second = repo.commitBuildScript(counted("echo v2"));

        List<BuildEvent> a = build(first, false);
        List<BuildEvent> b = build(second, false);

        assertThat(cacheResult(a).result()).isEqualTo("miss");
        assertThat(cacheResult(b).result()).isEqualTo("miss");
        assertThat(cacheResult(b).key()).isNotEqualTo(cacheResult(a).key());
        assertThat(Files.readAllLines(runs)).hasSize(2);
    }

    @Test
    void aFailedStepIsNotStoredSoItRunsAgain() throws Exception {
        String sha = repository("echo trying; exit 4");

        build(sha, false);
        List<BuildEvent> again = build(sha, false);

        assertThat(cacheResult(again).result()).isEqualTo("miss");
        assertThat(finished(again).exitCode()).isEqualTo(4);
        assertThat(Files.readAllLines(runs)).hasSize(2);
    }

    @Test
    void aFreshBuildBypassesTheCacheButRuns() throws Exception {
        String sha = repository("echo hello");
        build(sha, false);

        List<BuildEvent> fresh = build(sha, true);

        assertThat(cacheResult(fresh).result()).isEqualTo("bypassed");
        assertThat(Files.readAllLines(runs)).hasSize(2);
        assertThat(outputs(fresh)).containsExactly("out:hello\n");
    }

    @Test
    void aDamagedEntryIsAMissAndTheStepRunsAndStoresItAgain() throws Exception {
        String sha = repository("mkdir -p out; echo original > out/x; echo ok");
        String key = cacheResult(build(sha, false)).key();
        Path stored;
        try (Stream<Path> files = Files.list(tmp.resolve("task-cache/entries").resolve(key).resolve("files"))) {
            stored = files.findFirst().orElseThrow();
        }
        byte[] bytes = Files.readAllBytes(stored);
        bytes[0] ^= 1;
        Files.write(stored, bytes);

        List<BuildEvent> again = build(sha, false);

        assertThat(cacheResult(again).result()).isEqualTo("miss");
        assertThat(Files.readAllLines(runs)).hasSize(2);
        assertThat(cacheResult(build(sha, false)).result()).as("stored again after the run").isEqualTo("hit");
    }

    @Test
    void anUnreachableRemoteLevelIsAMissNeverAFailedBuild() throws Exception {
        StepCache withDeadRemote = new StepCache(new TestTaskCacheConfig(true, tmp.resolve("other-cache").toString(),
                Optional.of(URI.create("http://127.0.0.1:9/")), Long.MAX_VALUE), metrics);
        String sha = repository("echo remote-less");

        List<BuildEvent> events = build(withDeadRemote, sha, false);

        assertThat(cacheResult(events).result()).isEqualTo("miss");
        assertThat(finished(events).exitCode()).isZero();
        assertThat(cacheResult(build(withDeadRemote, sha, false)).result()).isEqualTo("hit");
    }

    // --- helpers ---

    private List<BuildEvent> build(String sha, boolean fresh) {
        return build(stepCache, sha, fresh);
    }

    private List<BuildEvent> build(StepCache cache, String sha, boolean fresh) {
        List<BuildEvent> events = new ArrayList<>();
        String id = "b-" + UUID.randomUUID();
        BuildRequested request = new BuildRequested(id, "dev", "k".repeat(64), repo.url(), "main", sha, "custom", "./build.sh",
                null, fresh, Instant.now(), 60);
        BuildOutcome outcome = new BuildExecutor(config(), "test-runner", Optional.of(cache))
                .run(request, events::add, new RunningBuild(id, Duration.ofSeconds(1)));
        assertThat(outcome.status()).isIn(BuildStatus.SUCCESS, BuildStatus.FAILURE);
        return events;
    }

    private String repository(String script) throws Exception {
        repo = TestGitRepo.withBuildScript(counted(script));
        return repo.head();
    }

    private String counted(String script) {
        return "echo ran >> '" + runs + "'; " + script;
    }

    private static StepCacheResult cacheResult(List<BuildEvent> events) {
        return events.stream().filter(StepCacheResult.class::isInstance).map(StepCacheResult.class::cast).findFirst().orElseThrow();
    }

    private static StepFinished finished(List<BuildEvent> events) {
        return events.stream().filter(e -> e instanceof StepFinished f && f.name().equals("build")).map(StepFinished.class::cast)
                .findFirst().orElseThrow();
    }

    /** The build step's output, chunks of one stream joined, as "out:…" / "err:…" in arrival order. */
    private static List<String> outputs(List<BuildEvent> events) {
        List<String> joined = new ArrayList<>();
        String last = null;
        boolean inBuild = false;
        for (BuildEvent event : events) {
            if (event instanceof StepStarted s) {
                inBuild = s.name().equals("build");
            } else if (inBuild && event instanceof BuildOutput o) {
                String stream = o.stream() == dev.reprise.events.OutputStream.STDERR ? "err:" : "out:";
                if (stream.equals(last)) {
                    joined.set(joined.size() - 1, joined.get(joined.size() - 1) + o.chunk());
                } else {
                    joined.add(stream + o.chunk());
                }
                last = stream;
            }
        }
        return joined;
    }

    private static List<String> stepNames(List<BuildEvent> events) {
        List<String> steps = new ArrayList<>();
        for (BuildEvent event : events) {
            if (event instanceof StepStarted s) {
                steps.add("start " + s.name());
            } else if (event instanceof StepCacheResult c) {
                steps.add("cache " + c.name() + " " + c.result());
            } else if (event instanceof StepFinished f) {
                steps.add("finish " + f.name() + " " + f.exitCode());
            }
        }
        return steps;
    }

    private RunnerConfig config() {
        // Builds count their runs in a file of the test's: outside what a sandboxed build may write.
        return new TestRunnerConfig(tmp.resolve("workspaces"), 60).withoutSandbox();
    }
}
