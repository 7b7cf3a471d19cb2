package dev.reprise.runner.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reprise.events.BuildCompleted;
import dev.reprise.events.BuildEvent;
import dev.reprise.events.BuildOutput;
import dev.reprise.events.BuildRequested;
import dev.reprise.events.BuildStarted;
import dev.reprise.events.BuildStatus;
import dev.reprise.events.OutputStream;
import dev.reprise.events.StepFinished;
import dev.reprise.events.StepStarted;
import dev.reprise.runner.config.RunnerConfig;
import dev.reprise.testing.TestGitRepo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Real git repositories and real processes; only Kafka is replaced by a list. */
class BuildExecutorTest {

    @TempDir
    Path tmp;

    /** Traversable by the builds' own uids, which reach their workspaces under it (JUnit makes it owner-only). */
    @org.junit.jupiter.api.BeforeEach
    void openTemporaryDirectory() throws java.io.IOException {
        java.nio.file.Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private final List<BuildEvent> events = Collections.synchronizedList(new ArrayList<>());
    private TestGitRepo repo;

    @Test
    void aPassingBuildStreamsItsLinesInOrderBetweenItsStepsAndSucceeds() throws Exception {
        String sha = repository("for i in 1 2 3 4 5; do echo \"line $i\"; sleep 0.05; done; echo oops >&2");

        BuildOutcome outcome = run(sha, null, 60);

        assertThat(outcome.status()).isEqualTo(BuildStatus.SUCCESS);
        assertThat(outcome.exitCode()).isZero();
        assertThat(events.get(0)).isInstanceOf(BuildStarted.class);
        assertThat(events.get(events.size() - 1)).isInstanceOfSatisfying(BuildCompleted.class,
                c -> assertThat(c.status()).isEqualTo(BuildStatus.SUCCESS));
        assertThat(steps()).containsExactly("start checkout", "finish checkout 0", "start build", "finish build 0");
        assertThat(output(OutputStream.STDOUT)).isEqualTo("line 1\nline 2\nline 3\nline 4\nline 5\n");
        assertThat(output(OutputStream.STDERR)).isEqualTo("oops\n");
        assertThat(workspaces()).as("workspace removed").isEmpty();
    }

    @Test
    void outputWrittenJustBeforeTheCommandExitsIsNeverLost() throws Exception {
        // More than a pipe buffer at the very end: most of it is still unread when the command exits.
        String sha = repository("seq 1 30000; seq 1 30000 >&2");

        for (int attempt = 0; attempt < 3; attempt++) {
            events.clear();
            assertThat(run(sha, null, 60).status()).isEqualTo(BuildStatus.SUCCESS);
            String expected = java.util.stream.IntStream.rangeClosed(1, 30000).mapToObj(i -> i + "\n")
                    .collect(java.util.stream.Collectors.joining());
            assertThat(output(OutputStream.STDOUT)).as("stdout, attempt " + attempt).isEqualTo(expected);
            assertThat(output(OutputStream.STDERR)).as("stderr, attempt " + attempt).isEqualTo(expected);
        }
    }

    @Test
    void aFailingCommandFailsWithItsExitCode() throws Exception {
        String sha = repository("echo before; exit 3");

        BuildOutcome outcome = run(sha, null, 60);

        assertThat(outcome.status()).isEqualTo(BuildStatus.FAILURE);
        assertThat(outcome.exitCode()).isEqualTo(3);
        assertThat(outcome.reason()).isEqualTo("command exited with 3");
        assertThat(output(OutputStream.STDOUT)).isEqualTo("before\n");
    }

    @Test
    void theBuildChecksOutTheExactCommitNotTheBranchTip() throws Exception {
        String first = repository("echo first");
        commit("echo second");

        run(first, null, 60);

        assertThat(output(OutputStream.STDOUT)).isEqualTo("first\n");
    }

    @Test
    void aBuildPastItsTimeoutIsKilledWithItsWholeProcessTree() throws Exception {
        String marker = "reprise-test-" + UUID.randomUUID();
        String sha = repository("bash -c 'sleep 300; echo " + marker + "' & echo started; sleep 300");

        long start = System.nanoTime();
        CompletableFuture<BuildOutcome> running = CompletableFuture.supplyAsync(() -> run(sha, null, 3));
        waitForOutput("started");
        long seen = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (processesNamed(marker).isEmpty() && System.nanoTime() < seen) {
            Thread.sleep(50);
        }
        assertThat(processesNamed(marker)).as("the grandchild runs before the timeout").isNotEmpty();
        BuildOutcome outcome = running.get(30, TimeUnit.SECONDS);

        assertThat(outcome.status()).isEqualTo(BuildStatus.TIMEOUT);
        assertThat(outcome.reason()).contains("timed out after 3 s");
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(30));
        assertThat(processesNamed(marker)).as("no process of the build survives").isEmpty();
        assertThat(workspaces()).isEmpty();
    }

    @Test
    void aCancelledBuildStopsAndSaysSo() throws Exception {
        String sha = repository("echo started; sleep 300");
        RunningBuild handle = new RunningBuild("b-cancel", Duration.ofSeconds(1));

        CompletableFuture<BuildOutcome> outcome = CompletableFuture.supplyAsync(() ->
                executor(60).run(request("b-cancel", sha, null, 60), events::add, handle));
        waitForOutput("started");
        handle.cancel("user asked");

        assertThat(outcome.get(30, TimeUnit.SECONDS).status()).isEqualTo(BuildStatus.CANCELLED);
        assertThat(outcome.get().reason()).isEqualTo("user asked");
    }

    @Test
    void outputBeyondTheCapStopsTheBuild() throws Exception {
        String sha = repository("yes 0123456789012345678901234567890123456789 | head -c 2000000; sleep 300");

        BuildOutcome outcome = new BuildExecutor(config(60, 100_000), "test-runner")
                .run(request("b-cap", sha, null, 60), events::add, new RunningBuild("b-cap", Duration.ofSeconds(1)));

        assertThat(outcome.status()).isEqualTo(BuildStatus.FAILURE);
        assertThat(outcome.reason()).isEqualTo("output exceeded 100000 bytes");
        assertThat(output(OutputStream.STDOUT).length()).isLessThanOrEqualTo(100_000);
    }

    @Test
    void aBuildFillingItsWorkspacePastTheCapIsStoppedAndFails() throws Exception {
        String sha = repository("for i in $(seq 1 100); do head -c 100000 /dev/zero > part-$i; sleep 0.02; done; echo filled; sleep 300");

        BuildOutcome outcome = new BuildExecutor(new TestRunnerConfig(tmp.resolve("workspaces"), 60).withWorkspaceCap(1_000_000),
                "test-runner").run(request("b-disk", sha, null, 60), events::add, new RunningBuild("b-disk", Duration.ofSeconds(1)));

        assertThat(outcome.status()).isEqualTo(BuildStatus.FAILURE);
        assertThat(outcome.reason()).isEqualTo("the workspace exceeded 1000000 bytes on disk");
        assertThat(output(OutputStream.STDOUT)).as("stopped while it was still writing").doesNotContain("filled");
        assertThat(tmp.resolve("workspaces").resolve("b-disk")).as("and its workspace removed").doesNotExist();
    }

    @Test
    void aBuildSeesOnlyItsOwnWorkspaceNotOtherBuildsNorHiddenFiles() throws Exception {
        Path root = tmp.resolve("workspaces");
        Path other = Files.createDirectories(root.resolve("other-build"));
        Files.writeString(other.resolve("secret.txt"), "tenant A's source");
        Path token = Files.writeString(Files.createDirectories(tmp.resolve("home")).resolve("token"), "rpr_secret");
        String sha = repository("echo \"root: $(ls -A " + root + " | tr '\\n' ' ')\"; cat " + other.resolve("secret.txt")
                + " || echo 'no other workspace'; echo \"token: [$(cat " + token + ")]\"; echo mine > own.txt; cat own.txt;"
                + " echo \"processes: $(ls /proc | grep -c '^[0-9]')\"");
        RunnerConfig config = new TestRunnerConfig(root, 60).withSandbox(List.of(token.toString()));

        BuildOutcome outcome = new BuildExecutor(config, "test-runner").run(request("b-sandboxed", sha, null, 60), events::add,
                new RunningBuild("b-sandboxed", Duration.ofSeconds(1)));

        String out = output(OutputStream.STDOUT);
        assertThat(outcome.status()).as(out + output(OutputStream.STDERR)).isEqualTo(BuildStatus.SUCCESS);
        assertThat(out).contains("root: b-sandboxed \n").contains("no other workspace").doesNotContain("tenant A's source")
                .contains("token: []").contains("mine");
        assertThat(Integer.parseInt(out.replaceAll("(?s).*processes: (\\d+).*", "$1"))).as("only its own processes").isLessThan(10);
        assertThat(other.resolve("secret.txt")).as("hidden, not touched").hasContent("tenant A's source");
    }

    @Test
    void diskUsageCountsFilesUnderTheWorkspace() throws Exception {
        Path dir = Files.createDirectories(tmp.resolve("usage/sub"));
        Files.write(dir.resolve("a"), new byte[1234]);
        Files.write(dir.getParent().resolve("b"), new byte[766]);

        assertThat(BuildExecutor.diskUsage(tmp.resolve("usage"))).isEqualTo(2000);
        assertThat(BuildExecutor.diskUsage(tmp.resolve("no-such-dir"))).isZero();
    }

    @Test
    void theBuildSeesOnlyAllowListedAndRequestedVariables() throws Exception {
        String sha = repository("env | cut -d= -f1 | sort");

        run(sha, Map.of("GREETING", "hi"), 60);

        Set<String> names = Set.of(output(OutputStream.STDOUT).split("\n"));
        assertThat(names).contains("GREETING", "HOME", "CI", "REPRISE_BUILD_ID", "PATH");
        assertThat(names).isSubsetOf("GREETING", "HOME", "CI", "REPRISE_BUILD_ID", "REPRISE_TENANT", "PATH", "LANG",
                "GIT_TERMINAL_PROMPT", "PWD", "SHLVL", "_", "OLDPWD");
    }

    @Test
    void aMissingCommitFailsAtCheckout() throws Exception {
        repository("echo hi");

        BuildOutcome outcome = run("f".repeat(40), null, 60);

        assertThat(outcome.status()).isEqualTo(BuildStatus.FAILURE);
        assertThat(outcome.reason()).startsWith("checkout of ffff");
        assertThat(steps()).containsExactly("start checkout", "finish checkout 128");
    }

    @Test
    void aBuildIdThatIsNotOneNeverNamesAWorkspace() throws Exception {
        String sha = repository("echo hi");
        Path outside = Files.createDirectories(tmp.resolve("keep-me"));
        Files.writeString(outside.resolve("data"), "precious");

        assertThatThrownBy(() -> executor(60).run(request("../keep-me", sha, null, 60), events::add,
                new RunningBuild("../keep-me", Duration.ofSeconds(1))))
                .hasMessageContaining("build id must match");
        assertThat(outside.resolve("data")).hasContent("precious");
        assertThat(events).isEmpty();
    }

    // --- helpers ---

    private BuildOutcome run(String sha, Map<String, String> env, int timeoutSeconds) {
        String id = "b-" + UUID.randomUUID();
        return executor(timeoutSeconds).run(request(id, sha, env, timeoutSeconds), events::add,
                new RunningBuild(id, Duration.ofSeconds(1)));
    }

    private BuildExecutor executor(int timeoutSeconds) {
        return new BuildExecutor(config(timeoutSeconds, 16 << 20), "test-runner");
    }

    private BuildRequested request(String id, String sha, Map<String, String> env, int timeoutSeconds) {
        return new BuildRequested(id, "dev", "k".repeat(64), repo.url(), "main", sha, "custom",
                "./build.sh", env, false, Instant.now(), timeoutSeconds);
    }

    private RunnerConfig config(int timeoutSeconds, long outputCap) {
        return new TestRunnerConfig(tmp.resolve("workspaces"), timeoutSeconds).withOutputCap(outputCap);
    }

    private String repository(String script) throws Exception {
        repo = TestGitRepo.withBuildScript(script);
        return repo.head();
    }

    private String commit(String script) throws Exception {
        return repo.commitBuildScript(script);
    }

    private List<String> steps() {
        return TestRunnerConfig.steps(events);
    }

    private String output(OutputStream stream) {
        return TestRunnerConfig.output(events, stream);
    }

    private void waitForOutput(String text) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!output(OutputStream.STDOUT).contains(text)) {
            assertThat(System.nanoTime()).as("output '" + text + "' within 20 s").isLessThan(deadline);
            Thread.sleep(50);
        }
    }

    private List<Path> workspaces() throws IOException {
        Path root = tmp.resolve("workspaces");
        if (!Files.exists(root)) {
            return List.of();
        }
        try (var list = Files.list(root)) {
            return list.toList();
        }
    }

    private static List<String> processesNamed(String marker) {
        return ProcessHandle.allProcesses()
                .filter(p -> p.info().commandLine().map(c -> c.contains(marker)).orElse(false)
                        || p.info().command().map(c -> c.contains(marker)).orElse(false))
                .map(p -> p.pid() + " " + p.info().commandLine().orElse("?")).toList();
    }
}
