package dev.reprise.gateway.service;

import dev.reprise.gateway.config.BuildsConfig;
import dev.reprise.gateway.service.RepositoryHosts.Destination;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Inet6Address;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.jboss.logging.Logger;

/**
 * {@code git ls-remote} against a tenant's repository, contained: git runs with nothing of the
 * gateway's (an environment built from scratch, no system or user git config, an empty read-only
 * HOME, so no credentials, ssh keys, agent or proxy settings), may speak only https and ssh (file
 * where file:// repositories are allowed), follows no redirect, connects only to the addresses
 * {@link RepositoryHosts} checked, and is bounded: a wall-clock timeout after which its whole
 * process group is killed, a cap on what it may print, a cap on each process's address space (a
 * hostile server can stream gigabytes of refs into git).
 */
public final class GitLsRemote {

    private static final Logger LOG = Logger.getLogger(GitLsRemote.class);

    private static final int MAX_STDERR = 64 * 1024;
    private static final String DEFAULT_PATH = "/usr/local/bin:/usr/bin:/bin";

    private final Duration timeout;
    private final long maxOutput;
    private final long maxMemory;
    private final boolean allowFile;
    private final Optional<String> knownHosts;
    private final Path home;

    GitLsRemote(Duration timeout, long maxOutput, long maxMemory, boolean allowFile, Optional<String> knownHosts) {
        this.timeout = timeout;
        this.maxOutput = maxOutput;
        this.maxMemory = maxMemory;
        this.allowFile = allowFile;
        this.knownHosts = knownHosts;
        this.home = emptyHome();
    }

    static GitLsRemote from(BuildsConfig config) {
        warnIfGitCannotPin();
        return new GitLsRemote(config.refResolutionTimeout(), config.refResolutionMaxOutput().asLongValue(),
                config.refResolutionMaxMemory().asLongValue(), config.allowFileRepositories(),
                config.sshKnownHosts().filter(s -> !s.isBlank()));
    }

    /**
     * The lines git prints for {@code patterns}. Blocks up to the timeout.
     *
     * @throws InvalidRequestException naming {@code repository} when the remote cannot be read, does
     *     not answer in time or answers with too much
     */
    public List<String> run(String url, Destination destination, List<String> patterns) {
        ProcessBuilder builder = new ProcessBuilder(command(url, destination, patterns))
                .directory(home.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        builder.environment().clear();
        builder.environment().putAll(environment(destination));
        Process process;
        try {
            process = builder.start();
        } catch (IOException e) {
            throw new IllegalStateException("cannot run git on the gateway (git, setsid and sh are needed): " + e.getMessage(), e);
        }
        Capture out = new Capture(process.getInputStream(), maxOutput, () -> killGroup(process));
        Capture err = new Capture(process.getErrorStream(), MAX_STDERR, null);
        Thread outReader = reader(out, "ls-remote-stdout");
        Thread errReader = reader(err, "ls-remote-stderr");
        try {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                killGroup(process);
                throw new InvalidRequestException("repository", "the remote did not answer within " + seconds(timeout)
                        + " (git ls-remote was stopped); check that the URL is right and reachable from the gateway,"
                        + " or name a commit SHA as ref, which needs no answer from it");
            }
            outReader.join(2000);
            errReader.join(2000);
        } catch (InterruptedException e) {
            killGroup(process);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while resolving a ref", e);
        }
        if (out.overflowed) {
            throw new InvalidRequestException("repository", "the remote answered with more than " + bytes(maxOutput)
                    + " of refs matching the ref; name a commit SHA as ref");
        }
        if (process.exitValue() != 0) {
            String first = err.text().lines().map(GitLsRemote::printable).filter(l -> !l.isBlank()).findFirst()
                    .orElse("git exited with " + process.exitValue());
            throw new InvalidRequestException("repository", "could not be read: " + first);
        }
        return out.text().lines().toList();
    }

    /** setsid (a process group to kill as one), sh to set the memory cap, then git, configured on the command line. */
    List<String> command(String url, Destination destination, List<String> patterns) {
        List<String> command = new ArrayList<>(List.of("setsid", "/bin/sh", "-c",
                "ulimit -v " + Math.max(1, maxMemory / 1024) + " && exec \"$@\"", "git-ls-remote", "git",
                "-c", "protocol.allow=never",
                "-c", "protocol.https.allow=always",
                "-c", "protocol.ssh.allow=always",
                "-c", "protocol.file.allow=" + (allowFile ? "always" : "never"),
                "-c", "http.followRedirects=false"));
        if ("https".equals(destination.scheme()) && !destination.addresses().isEmpty()) {
            // curl connects to what was checked and never asks DNS again (no rebinding); TLS still
            // verifies the certificate against the host name.
            String addresses = destination.addresses().stream()
                    .map(a -> a instanceof Inet6Address ? "[" + a.getHostAddress() + "]" : a.getHostAddress())
                    .collect(Collectors.joining(","));
            for (String spelling : spellings(destination.host())) {
                command.add("-c");
                command.add("http.curloptResolve=" + spelling + ":" + destination.port() + ":" + addresses);
            }
        }
        command.addAll(List.of("ls-remote", "--", url));
        command.addAll(patterns);
        return command;
    }

    /** Exactly what git gets: nothing inherited but PATH. */
    Map<String, String> environment(Destination destination) {
        Map<String, String> env = new HashMap<>();
        env.put("PATH", Optional.ofNullable(System.getenv("PATH")).filter(p -> !p.isBlank()).orElse(DEFAULT_PATH));
        env.put("HOME", home.toString());
        env.put("LANG", "C");
        env.put("LC_ALL", "C");
        env.put("GIT_CONFIG_NOSYSTEM", "1");
        env.put("GIT_CONFIG_GLOBAL", "/dev/null");
        env.put("GIT_TERMINAL_PROMPT", "0");
        env.put("GIT_CEILING_DIRECTORIES", home.getParent().toString());
        env.put("GIT_SSH_VARIANT", "ssh");
        env.put("GIT_SSH_COMMAND", sshCommand(destination));
        return env;
    }

    /**
     * ssh without any configuration (no ~/.ssh, no /etc/ssh/ssh_config: no keys, agent, proxy or
     * control sockets), never asking, connecting to the checked address while host keys are looked
     * up by name.
     */
    private String sshCommand(Destination destination) {
        // No ConnectTimeout: the wall-clock timeout bounds ssh with the rest, and says so.
        StringBuilder ssh = new StringBuilder("ssh -F /dev/null -o BatchMode=yes -o LogLevel=ERROR");
        if (knownHosts.isPresent()) {
            ssh.append(" -o StrictHostKeyChecking=yes -o UserKnownHostsFile=").append(quote(knownHosts.get()))
                    .append(" -o GlobalKnownHostsFile=/dev/null");
        } else {
            // No known_hosts to check against: any key is accepted and nothing is written anywhere.
            ssh.append(" -o StrictHostKeyChecking=accept-new -o UserKnownHostsFile=/dev/null -o GlobalKnownHostsFile=/dev/null");
        }
        if ("ssh".equals(destination.scheme()) && !destination.addresses().isEmpty()) {
            ssh.append(" -o HostName=").append(quote(destination.addresses().get(0).getHostAddress()))
                    .append(" -o HostKeyAlias=").append(quote(destination.host().toLowerCase(Locale.ROOT)));
        }
        return ssh.toString();
    }

    /** git before 2.37 ignores http.curloptResolve, so curl would look the name up again (rebinding). */
    private static void warnIfGitCannotPin() {
        try {
            Process process = new ProcessBuilder("git", "--version").redirectErrorStream(true).start();
            String version = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            process.waitFor(5, TimeUnit.SECONDS);
            Matcher m = Pattern.compile("(\\d+)\\.(\\d+)").matcher(version);
            if (m.find() && Integer.parseInt(m.group(1)) * 1000 + Integer.parseInt(m.group(2)) < 2037) {
                LOG.warnf("%s cannot pin https repositories to the addresses checked (http.curloptResolve needs git 2.37):"
                        + " a host name may resolve elsewhere between the check and git's connection", version);
            }
        } catch (IOException e) {
            LOG.warnf("git cannot be run on the gateway (%s): branches, tags and HEAD cannot be resolved", e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** Every way curl may spell the host when it looks it up in the pinned entries. */
    private static Set<String> spellings(String host) {
        Set<String> spellings = new LinkedHashSet<>();
        for (String h : List.of(host, host.toLowerCase(Locale.ROOT))) {
            spellings.add(h);
            if (h.endsWith(".")) {
                spellings.add(h.substring(0, h.length() - 1));
            }
        }
        return spellings;
    }

    private static void killGroup(Process process) {
        // setsid made git's pid its process group id; the group takes grandchildren that lost their parent too.
        List<ProcessHandle> descendants = process.descendants().toList();
        if (process.isAlive()) {
            try {
                new ProcessBuilder("/bin/sh", "-c", "kill -9 -\"$1\"", "kill", Long.toString(process.pid()))
                        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                        .start().waitFor(5, TimeUnit.SECONDS);
            } catch (IOException e) {
                // the handles below still kill what they can reach
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        descendants.forEach(ProcessHandle::destroyForcibly);
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        process.toHandle().destroyForcibly();
    }

    private static Thread reader(Capture capture, String name) {
        Thread thread = new Thread(capture, name);
        thread.setDaemon(true);
        thread.start();
        return thread;
    }

    /** An empty, read-only HOME: nothing for git or ssh to read there, nothing they can leave behind. */
    private static Path emptyHome() {
        try {
            Path dir = Files.createTempDirectory("reprise-git-home-", PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rwx------")));
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("r-x------"));
            dir.toFile().deleteOnExit();
            return dir;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create an empty HOME for git", e);
        }
    }

    private static String quote(String value) {
        return "'" + value.replace("'", "'\\''") + "'";
    }

    private static String printable(String line) {
        String clean = line.replaceAll("\\p{Cntrl}", "").strip();
        return clean.length() > 300 ? clean.substring(0, 300) + "…" : clean;
    }

    private static String seconds(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + " s" : d.toMillis() + " ms";
    }

    static String bytes(long n) {
        if (n % (1024 * 1024) == 0) {
            return n / (1024 * 1024) + " MiB";
        }
        return n % 1024 == 0 ? n / 1024 + " KiB" : n + " bytes";
    }

    /** Keeps at most {@code cap} bytes of a stream; past it, {@code onOverflow} (or just drains). */
    private static final class Capture implements Runnable {
        private final InputStream in;
        private final long cap;
        private final Runnable onOverflow;
        private final ByteArrayOutputStream kept = new ByteArrayOutputStream();
        volatile boolean overflowed;

        Capture(InputStream in, long cap, Runnable onOverflow) {
            this.in = in;
            this.cap = cap;
            this.onOverflow = onOverflow;
        }

        @Override
        public void run() {
            byte[] chunk = new byte[8192];
            try (in) {
                int n;
                while ((n = in.read(chunk)) != -1) {
                    long room = cap - kept.size();
                    if (n > room) {
                        kept.write(chunk, 0, (int) Math.max(0, room));
                        if (!overflowed) {
                            overflowed = true;
                            if (onOverflow != null) {
                                onOverflow.run();
                                return;
                            }
                        }
                    } else {
                        kept.write(chunk, 0, n);
                    }
                }
            } catch (IOException e) {
                // the process was killed; what was read is kept
            }
        }

        synchronized String text() {
            return kept.toString(StandardCharsets.UTF_8);
        }
    }
}
