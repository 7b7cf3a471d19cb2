package dev.reprise.gateway.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reprise.gateway.SilentServer;
import dev.reprise.gateway.service.RepositoryHosts.Destination;
import dev.reprise.testing.TestGitRepo;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** The contained git ls-remote, against real git: local repositories and a remote that never answers. */
class GitLsRemoteTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(2);
    private static final long MIB = 1024 * 1024;
    private static final Destination FILE = new Destination("file", null, -1, List.of());

    private static GitLsRemote git(boolean allowFile) {
        return new GitLsRemote(TIMEOUT, MIB, 256 * MIB, allowFile, Optional.empty());
    }

    @Test
    void gitMaySpeakOnlyHttpsAndSshFollowsNoRedirectAndHasItsMemoryCapped() {
        Destination https = new Destination("https", "git.example.org", 443, List.of());
        List<String> command = git(false).command("https://git.example.org/app", https, List.of("main", "main^{}"));
        assertThat(command.subList(0, 4)).containsExactly("setsid", "/bin/sh", "-c", "ulimit -v 262144 && exec \"$@\"");
        assertThat(String.join(" ", command))
                .contains("git -c protocol.allow=never -c protocol.https.allow=always -c protocol.ssh.allow=always"
                        + " -c protocol.file.allow=never -c http.followRedirects=false")
                .endsWith(" ls-remote -- https://git.example.org/app main main^{}")
                .doesNotContain("curloptResolve", "protocol.http.allow", "protocol.ext");
        assertThat(String.join(" ", git(true).command("file:///srv/app", FILE, List.of("main"))))
                .contains("-c protocol.file.allow=always");
    }

    @Test
    void httpsConnectsOnlyToTheAddressesThatWereChecked() throws Exception {
        Destination pinned = new Destination("https", "Git.Example.org.", 8443,
                List.of(InetAddress.getByName("140.82.112.3"), InetAddress.getByName("2606:50c0:8000::153")));
        List<String> command = git(false).command("https://Git.Example.org.:8443/app", pinned, List.of("main"));
        String addresses = ":8443:140.82.112.3,[2606:50c0:8000:0:0:0:0:153]";
        assertThat(command).contains("http.curloptResolve=Git.Example.org." + addresses,
                "http.curloptResolve=Git.Example.org" + addresses, "http.curloptResolve=git.example.org." + addresses,
                "http.curloptResolve=git.example.org" + addresses);
        assertThat(command.indexOf("ls-remote")).isGreaterThan(command.lastIndexOf("-c"));
    }

    @Test
    void gitGetsNothingOfTheGatewaysEnvironment() throws Exception {
        Map<String, String> env = git(false).environment(new Destination("https", "git.example.org", 443, List.of()));
        assertThat(env.keySet()).containsExactlyInAnyOrder("PATH", "HOME", "LANG", "LC_ALL", "GIT_CONFIG_NOSYSTEM",
                "GIT_CONFIG_GLOBAL", "GIT_TERMINAL_PROMPT", "GIT_CEILING_DIRECTORIES", "GIT_SSH_VARIANT", "GIT_SSH_COMMAND");
        assertThat(env).containsEntry("GIT_CONFIG_NOSYSTEM", "1").containsEntry("GIT_CONFIG_GLOBAL", "/dev/null")
                .containsEntry("GIT_TERMINAL_PROMPT", "0");
        Path home = Path.of(env.get("HOME"));
        assertThat(home).isNotEqualTo(Path.of(System.getProperty("user.home")));
        assertThat(Files.list(home)).isEmpty();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(home))).isEqualTo("r-x------");
        assertThat(env.get("GIT_SSH_COMMAND")).startsWith("ssh -F /dev/null -o BatchMode=yes")
                .contains("-o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=/dev/null")
                .doesNotContain("HostName");
    }

    @Test
    void sshConnectsToTheCheckedAddressAndChecksHostKeysWhenAKnownHostsFileIsGiven() throws Exception {
        GitLsRemote strict = new GitLsRemote(TIMEOUT, MIB, 256 * MIB, false, Optional.of("/etc/reprise/known_hosts"));
        String ssh = strict.environment(new Destination("ssh", "Git.Example.org", 22,
                List.of(InetAddress.getByName("140.82.112.3")))).get("GIT_SSH_COMMAND");
        assertThat(ssh).contains("-o BatchMode=yes", "-o StrictHostKeyChecking=yes -o UserKnownHostsFile='/etc/reprise/known_hosts'",
                "-o HostName='140.82.112.3' -o HostKeyAlias='git.example.org'");
    }

    @Test
    void aLocalRepositoryIsReadOnlyWhereFileRepositoriesAreAllowed() throws Exception {
        TestGitRepo repo = TestGitRepo.withBuildScript("true");
        assertThat(git(true).run(repo.url(), FILE, List.of("main", "main^{}")))
                .containsExactly(repo.head() + "\trefs/heads/main");
        assertThatThrownBy(() -> git(false).run(repo.url(), FILE, List.of("main")))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("repository"))
                .hasMessageContaining("could not be read").hasMessageContaining("not allowed");
    }

    @Test
    void aRemoteThatNeverAnswersOverHttpsIsKilledWithAllItStartedAtTheTimeout() throws Exception {
        try (SilentServer server = new SilentServer("127.0.0.2")) {
            // pinned.invalid has no address anywhere: git reaches the server only through the pin.
            Destination pinned = new Destination("https", "pinned.invalid", server.port(),
                    List.of(InetAddress.getByName("127.0.0.2")));
            expectTimeout(server, "https://pinned.invalid:" + server.port() + "/org/app.git", pinned);
        }
    }

    @Test
    void aRemoteThatNeverAnswersOverSshIsKilledWithAllItStartedAtTheTimeout() throws Exception {
        try (SilentServer server = new SilentServer("127.0.0.2")) {
            Destination pinned = new Destination("ssh", "pinned.invalid", server.port(),
                    List.of(InetAddress.getByName("127.0.0.2")));
            expectTimeout(server, "ssh://git@pinned.invalid:" + server.port() + "/org/app.git", pinned);
        }
    }

    @Test
    void aRemoteAnsweringWithMoreThanTheCapIsCut() throws Exception {
        TestGitRepo repo = TestGitRepo.withBuildScript("true");
        String sha = repo.head();
        Path updates = Files.createTempFile("refs", ".txt");
        Files.writeString(updates, IntStream.range(0, 400).mapToObj(i -> "create refs/x/" + i + "/main " + sha)
                .collect(Collectors.joining("\n", "", "\n")));
        Process update = new ProcessBuilder("git", "-C", repo.dir().toString(), "update-ref", "--stdin")
                .redirectInput(updates.toFile()).redirectErrorStream(true).start();
        assertThat(update.waitFor()).isZero();
        Files.delete(updates);
        GitLsRemote capped = new GitLsRemote(TIMEOUT, 4096, 256 * MIB, true, Optional.empty());
        assertThatThrownBy(() -> capped.run(repo.url(), FILE, List.of("main")))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("repository"))
                .hasMessageContaining("more than 4 KiB");
        assertThat(git(true).run(repo.url(), FILE, List.of("main"))).hasSize(401);
    }

    @Test
    void everyProcessHasItsAddressSpaceCapped() throws Exception {
        TestGitRepo repo = TestGitRepo.withBuildScript("true");
        GitLsRemote starved = new GitLsRemote(TIMEOUT, MIB, 2 * MIB, true, Optional.empty());
        assertThatThrownBy(() -> starved.run(repo.url(), FILE, List.of("main")))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("repository"))
                .hasMessageContaining("could not be read");
    }

    private static void expectTimeout(SilentServer server, String url, Destination destination) throws Exception {
        long started = System.nanoTime();
        assertThatThrownBy(() -> git(false).run(url, destination, List.of("main", "main^{}")))
                .isInstanceOfSatisfying(InvalidRequestException.class, e -> assertThat(e.field()).isEqualTo("repository"))
                .hasMessageContaining("the remote did not answer within 2 s");
        assertThat(Duration.ofNanos(System.nanoTime() - started)).isBetween(TIMEOUT, TIMEOUT.plusSeconds(4));
        assertThat(server.connections()).isEqualTo(1);
        assertThat(server.allClosedWithin(Duration.ofSeconds(3))).as("git and its helpers are gone").isTrue();
        assertThat(ProcessHandle.allProcesses().filter(ProcessHandle::isAlive)
                .map(p -> p.info().commandLine().orElse(""))
                .filter(line -> line.contains("pinned.invalid") && line.contains(Integer.toString(server.port()))))
                .isEmpty();
    }
}
