package dev.reprise.runner.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.reprise.events.BuildEvent;
import dev.reprise.events.BuildRequested;
import dev.reprise.events.BuildStatus;
import dev.reprise.events.OutputStream;
import dev.reprise.runner.config.RunnerConfig;
import dev.reprise.testing.TestGitRepo;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A build as a hostile tenant writes it, against the real sandbox (bubblewrap, the build uids,
 * the egress firewall, seccomp, control groups): each attack runs as a build and the test reads
 * what the build printed. Needs root and bubblewrap, as the runner does in production.
 */
class SandboxedBuildTest {

    @TempDir
    Path tmp;

    private final List<BuildEvent> events = Collections.synchronizedList(new ArrayList<>());
    private Path workspaces;
    private Path secret;

    @BeforeAll
    static void needsRootAndBubblewrap() {
        assumeTrue(System.getProperty("user.name").equals("root"), "the sandbox switches uids: run as root");
    }

    @BeforeEach
    void setUp() throws IOException {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        workspaces = tmp.resolve("workspaces");
        Path home = Files.createDirectories(tmp.resolve("service-home"));
        // World-readable on purpose: hiding it, not its mode, is what keeps it from builds.
        secret = Files.writeString(home.resolve("stream-secret"), "s3cr3t-of-the-platform");
        Files.setPosixFilePermissions(secret, PosixFilePermissions.fromString("rw-r--r--"));
    }

    @Test
    void aBuildRunsAsAnUnprivilegedUidOfItsOwnWithNoCapabilities() throws Exception {
        String out = build("id -u; grep -E '^(CapEff|CapBnd|NoNewPrivs|Seccomp):' /proc/self/status; touch own-file && stat -c 'owner %u' own-file");

        String uid = out.lines().findFirst().orElseThrow();
        assertThat(Integer.parseInt(uid)).as(out).isBetween(100000, 100999);
        assertThat(out).contains("CapEff:\t0000000000000000").contains("CapBnd:\t0000000000000000").contains("NoNewPrivs:\t1")
                .contains("Seccomp:\t2").contains("owner " + uid);
    }

    @Test
    void mountsCannotBeUndoneAndTheHostIsReadOnly() throws Exception {
        String out = build("umount " + secret + " 2>/dev/null && echo UNMOUNTED; umount -l /tmp 2>/dev/null && echo UNMOUNTED;"
                + " mount -t tmpfs none /mnt 2>/dev/null && echo MOUNTED; unshare -U -m true 2>/dev/null && echo UNSHARED;"
                + " echo \"secret: [$(cat " + secret + ")]\"; touch /usr/local/pwned 2>/dev/null && echo WROTE-HOST;"
                + " touch " + secret.getParent().resolve("planted") + " 2>/dev/null && echo WROTE-HIDDEN; echo done");

        assertThat(out).contains("secret: []").contains("done").doesNotContain("UNMOUNTED").doesNotContain("MOUNTED")
                .doesNotContain("UNSHARED").doesNotContain("WROTE").doesNotContain("s3cr3t");
        assertThat(Path.of("/usr/local/pwned")).doesNotExist();
        assertThat(secret.getParent().resolve("planted")).doesNotExist();
    }

    @Test
    void aHiddenPathBehindAnOwnerOnlyDirectoryDoesNotStopTheBuild() throws Exception {
        // A checkout in an owner-only directory (/root, a mktemp clone): its hidden state is out of the build's reach
        // already, and the sandbox must not fail trying to mount over it.
        Path closed = Files.createDirectories(tmp.resolve("closed").resolve("home"));
        Files.writeString(closed.resolve("token"), "rpr_secret");
        Files.setPosixFilePermissions(closed.getParent(), PosixFilePermissions.fromString("rwx------"));
        events.clear();
        TestGitRepo repo = TestGitRepo.withBuildScript("cat " + closed.resolve("token") + " 2>/dev/null || echo unreachable");
        String id = "b-" + UUID.randomUUID();
        BuildOutcome outcome = new BuildExecutor(new TestRunnerConfig(workspaces, 120).withSandbox(List.of(closed.toString())), "test-runner")
                .run(new BuildRequested(id, "tenant-b", "k".repeat(64), repo.url(), "main", repo.head(), "custom", "./build.sh", null,
                        false, Instant.now(), 120), events::add, new RunningBuild(id, Duration.ofSeconds(1)));

        String out = TestRunnerConfig.output(events, OutputStream.STDOUT);
        assertThat(outcome.status()).as(outcome.reason() + out).isEqualTo(BuildStatus.SUCCESS);
        assertThat(out).contains("unreachable").doesNotContain("rpr_secret");
    }

    @Test
    void aLocalRepositoryInAnOwnerOnlyDirectoryIsCheckedOutButItsDirectoryStaysUnseen() throws Exception {
        // ./reprise demo's repository lives in .reprise (mode 700), often under /root: the build's uid cannot reach it.
        Path closed = Files.createDirectories(tmp.resolve("owner-only"));
        Files.setPosixFilePermissions(closed, PosixFilePermissions.fromString("rwx------"));
        TestGitRepo origin = TestGitRepo.withBuildScript("echo checked out; cat " + closed.resolve("repo/untracked.txt")
                + " 2>/dev/null || echo original unreachable; ls -a");
        String head = origin.head();
        Path repo = Files.move(origin.dir(), closed.resolve("repo"));
        Files.writeString(repo.resolve("untracked.txt"), "not-committed-secret");

        BuildOutcome outcome = run("file://" + repo, head, null);

        String out = TestRunnerConfig.output(events, OutputStream.STDOUT);
        assertThat(outcome.status()).as(outcome.reason() + out + TestRunnerConfig.output(events, OutputStream.STDERR))
                .isEqualTo(BuildStatus.SUCCESS);
        assertThat(out).contains("checked out").contains("original unreachable").contains("build.sh")
                .doesNotContain("not-committed-secret").doesNotContain("untracked.txt");
        assertThat(workspaces.resolve(((dev.reprise.events.BuildStarted) events.get(0)).buildId() + ".source.git")).doesNotExist();
    }

    @Test
    void aLocalRepositoryThatIsNotThereFailsTheCheckoutWithGitsMessage() throws Exception {
        BuildOutcome outcome = run("file://" + tmp.resolve("no-such-repo"), "a".repeat(40), null);

        assertThat(outcome.status()).isEqualTo(BuildStatus.FAILURE);
        assertThat(outcome.reason()).contains("checkout");
        assertThat(TestRunnerConfig.output(events, OutputStream.STDERR)).contains("no-such-repo");
    }

    @Test
    void aNetworkThatAKilledRunnerLeftIsRemovedWhenARunnerStarts() throws Exception {
        Path left = Path.of("/run/netns/reprise-build-997");
        Process add = new ProcessBuilder("ip", "netns", "add", "reprise-build-997").redirectErrorStream(true).start();
        assertThat(add.waitFor()).as(new String(add.getInputStream().readAllBytes())).isZero();
        assertThat(left).exists();

        dev.reprise.runner.sandbox.Sandbox.of(new TestRunnerConfig(workspaces, 120).withSandbox(List.of()));

        assertThat(left).doesNotExist();
    }

    @Test
    void theSeccompFilterRefusesKeyringPtraceAndBpf() throws Exception {
        // Without the filter an unprivileged process may use its keyring and PTRACE_TRACEME: EPERM means the filter said no.
        String out = build("perl -e 'my $r = syscall(250, 0, -3, 0); print \"keyctl=$r errno=\" . ($! + 0) . \"\\n\";"
                + " $r = syscall(101, 0, 0, 0, 0); print \"ptrace=$r errno=\" . ($! + 0) . \"\\n\";"
                + " $r = syscall(321, 0, 0, 0); print \"bpf=$r errno=\" . ($! + 0) . \"\\n\";'");

        assertThat(out).contains("keyctl=-1 errno=1").contains("ptrace=-1 errno=1").contains("bpf=-1 errno=1");
    }

    @Test
    void loopbackAndTheNodeAreUnreachableButTheBuildStillRuns() throws Exception {
        try (ServerSocket store = new ServerSocket(0, 50, java.net.InetAddress.getLoopbackAddress())) {
            int port = store.getLocalPort();
            String out = build("for host in 127.0.0.1 127.0.0.2 localhost; do timeout 5 bash -c \"echo > /dev/tcp/$host/" + port + "\""
                    + " 2>/dev/null && echo \"REACHED $host\" || echo \"refused $host\"; done; echo done");

            assertThat(out).contains("refused 127.0.0.1").contains("refused 127.0.0.2").contains("done").doesNotContain("REACHED");
        }
    }

    @Test
    void theNodeAndOtherPrivateAddressesAreUnreachableButTheBuildsOwnLoopbackWorks() throws Exception {
        String node = java.util.Collections.list(java.net.NetworkInterface.getNetworkInterfaces()).stream()
                .flatMap(nic -> java.util.Collections.list(nic.getInetAddresses()).stream())
                .filter(a -> a instanceof java.net.Inet4Address && !a.isLoopbackAddress()).map(java.net.InetAddress::getHostAddress)
                .findFirst().orElseThrow();
        try (ServerSocket service = new ServerSocket(0, 50, java.net.InetAddress.getByName("0.0.0.0"))) {
            // A service of the node listening on every address, the way an HTTP service does.
            String out = build("timeout 5 bash -c 'exec 3<>/dev/tcp/" + node + "/" + service.getLocalPort() + "' 2>/dev/null"
                    + " && echo 'REACHED the node' || echo 'node refused';"
                    + " timeout 5 bash -c 'exec 3<>/dev/tcp/169.254.169.254/80' 2>/dev/null && echo 'REACHED metadata' || echo 'metadata refused';"
                    + " perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalAddr => \"127.0.0.1:18080\", Listen => 1, ReuseAddr => 1) or die;"
                    + " if (fork() == 0) { $c = IO::Socket::INET->new(\"127.0.0.1:18080\") or die; print $c \"own loopback\\n\"; exit 0 }"
                    + " $a = $s->accept; print scalar <$a>'");

            assertThat(out).contains("node refused").contains("metadata refused").contains("own loopback").doesNotContain("REACHED");
        }
    }

    @Test
    void aForkBombIsHeldAtTheProcessLimitAndDiesWithTheBuild() throws Exception {
        // 512 processes allowed (TestRunnerConfig); the bomb forks until the kernel says no, leaves its children
        // sleeping and exits: they must not outlive the build.
        String out = build("perl -e '$0 = \"fork-bomb-marker\"; my $n = 0; for (1 .. 5000) { my $p = fork();"
                + " last unless defined $p; if ($p == 0) { sleep 600; exit 0 } $n++ } print \"forked $n\\n\"'");

        int forked = Integer.parseInt(out.replaceAll("(?s).*forked (\\d+).*", "$1"));
        assertThat(forked).as(out).isLessThan(512).isGreaterThan(10);
        assertThat(ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains("fork-bomb-marker")).count())
                .as("nothing of the build outlives it").isZero();
    }

    @Test
    void aBuildOverItsMemoryLimitIsKilledNotTheNode() throws Exception {
        // 2 GiB allowed (TestRunnerConfig); the build asks for 3 GiB in one piece.
        BuildOutcome outcome = run("perl -e 'my $x = \"a\" x (3 * 1024 * 1024 * 1024); print \"survived\\n\"'", null);

        assertThat(outcome.status()).isEqualTo(BuildStatus.FAILURE);
        assertThat(outcome.reason()).as("killed by the kernel (SIGKILL: 128 + 9)").isEqualTo("command exited with 137");
        assertThat(TestRunnerConfig.output(events, OutputStream.STDOUT)).doesNotContain("survived");
    }

    @Test
    void variablesThatWouldRunCodeAroundTheBuildAreRefusedByTheRunnerToo() throws Exception {
        // The gateway refuses them with a 400; a request that reaches the queue some other way fails here, unrun.
        Path marker = tmp.resolve("bash-env-ran");
        Path script = Files.writeString(tmp.resolve("evil.sh"), "touch " + marker + "\n");
        Files.setPosixFilePermissions(script, PosixFilePermissions.fromString("rwxr-xr-x"));
        BuildOutcome outcome = run("echo ran", java.util.Map.of("BASH_ENV", script.toString()));

        assertThat(outcome.status()).isEqualTo(BuildStatus.FAILURE);
        assertThat(outcome.reason()).startsWith("env.BASH_ENV: ");
        assertThat(TestRunnerConfig.output(events, OutputStream.STDOUT)).doesNotContain("ran");
        assertThat(marker).doesNotExist();
    }

    private String build(String script) throws Exception {
        return build(script, null);
    }

    private String build(String script, java.util.Map<String, String> env) throws Exception {
        BuildOutcome outcome = run(script, env);
        String out = TestRunnerConfig.output(events, OutputStream.STDOUT);
        assertThat(outcome.status()).as(outcome.reason() + "\n" + out + TestRunnerConfig.output(events, OutputStream.STDERR))
                .isEqualTo(BuildStatus.SUCCESS);
        return out;
    }

    /** Runs {@code script} as tenant B's build in the required sandbox, the secret's directory hidden; its events in {@link #events}. */
    private BuildOutcome run(String script, java.util.Map<String, String> env) throws Exception {
        TestGitRepo repo = TestGitRepo.withBuildScript(script);
        return run(repo.url(), repo.head(), env);
    }

    private BuildOutcome run(String repository, String commit, java.util.Map<String, String> env) throws Exception {
        events.clear();
        RunnerConfig config = new TestRunnerConfig(workspaces, 120).withSandbox(List.of(secret.getParent().toString()));
        String id = "b-" + UUID.randomUUID();
        BuildRequested request = new BuildRequested(id, "tenant-b", "k".repeat(64), repository, "main", commit, "custom", "./build.sh",
                env, false, Instant.now(), 120);
        return new BuildExecutor(config, "test-runner").run(request, events::add, new RunningBuild(id, Duration.ofSeconds(1)));
    }
}
