package dev.reprise.runner.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reprise.events.BuildRequested;
import dev.reprise.events.BuildStatus;
import dev.reprise.runner.config.RunnerConfig;
import dev.reprise.testing.TestGitRepo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What containing a build costs: the same small build (checkout of a local repository, then a
 * one-line command) run through the executor with the sandbox off and with it fully on, measured
 * alternately, so the difference is the per-build overhead (uid, control group, namespaces,
 * seccomp, two steps' wrappers). {@code bench/run sandbox} runs it and writes
 * bench/results/sandbox.json.
 */
@Tag("bench")
class SandboxBench {

    private static final int RUNS = Integer.getInteger("bench.runs", 20);

    @TempDir
    Path tmp;

    @Test
    void perBuildOverheadOfTheSandbox() throws Exception {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        TestGitRepo repo = TestGitRepo.withBuildScript("echo built");
        String sha = repo.head();
        RunnerConfig off = new TestRunnerConfig(tmp.resolve("off"), 60).withoutSandbox();
        RunnerConfig on = new TestRunnerConfig(tmp.resolve("on"), 60).withSandbox(List.of());
        BuildExecutor plain = new BuildExecutor(off, "bench");
        BuildExecutor contained = new BuildExecutor(on, "bench");
        assertThat(contained.isolation().complete()).as("fully contained: " + contained.isolation()).isTrue();
        long[] offMs = new long[RUNS];
        long[] onMs = new long[RUNS];
        for (int i = -3; i < RUNS; i++) {
            long a = time(plain, repo, sha);
            long b = time(contained, repo, sha);
            if (i >= 0) {
                offMs[i] = a;
                onMs[i] = b;
            }
        }
        Arrays.sort(offMs);
        Arrays.sort(onMs);
        String json = String.format(Locale.ROOT, """
                {"benchmark": "sandbox", "when": "%s", "runs": %d, "build": "checkout of a local repository + echo",
                 "uncontained_ms": {"p50": %d, "p90": %d}, "contained_ms": {"p50": %d, "p90": %d},
                 "overhead_p50_ms": %d, "isolation": "%s"}
                """, Instant.now(), RUNS, offMs[RUNS / 2], offMs[RUNS * 9 / 10], onMs[RUNS / 2], onMs[RUNS * 9 / 10],
                onMs[RUNS / 2] - offMs[RUNS / 2], contained.isolation());
        System.out.println(json);
        String out = System.getProperty("bench.results");
        if (out != null) {
            Files.writeString(Path.of(out), json);
        }
    }

    private static long time(BuildExecutor executor, TestGitRepo repo, String sha) {
        String id = "bench-" + UUID.randomUUID();
        BuildRequested request = new BuildRequested(id, "bench", "k".repeat(64), repo.url(), "main", sha, "custom", "./build.sh", null,
                false, Instant.now(), 60);
        long start = System.nanoTime();
        BuildOutcome outcome = executor.run(request, event -> { }, new RunningBuild(id, Duration.ofSeconds(1)));
        long ms = (System.nanoTime() - start) / 1_000_000;
        assertThat(outcome.status()).isEqualTo(BuildStatus.SUCCESS);
        return ms;
    }
}
