package dev.reprise.runner.service;

import dev.reprise.runner.config.RunnerConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.jboss.logging.Logger;

/**
 * Keeps a build's processes out of everything that is not theirs: with bubblewrap, each step runs
 * in its own mount and process namespaces where the workspace root shows only the build's own
 * workspace, the task cache and hidden directories are empty, and hidden files (the service's
 * token and secrets) read as empty; other builds' processes are not visible.
 * The rest of the file system is the host's, so the tools installed there work unchanged. Without
 * bwrap (or where the kernel refuses it namespaces) mode {@code auto} runs steps as before and
 * says so once; mode {@code on} refuses to start.
 */
final class Sandbox {

    private static final Logger LOG = Logger.getLogger(Sandbox.class);

    private final boolean enabled;
    private final List<Path> hidden;

    private Sandbox(boolean enabled, List<Path> hidden) {
        this.enabled = enabled;
        this.hidden = hidden;
    }

    static Sandbox of(RunnerConfig config) {
        Path root = Path.of(config.workspaceRoot()).toAbsolutePath().normalize();
        Set<Path> hidden = new LinkedHashSet<>();
        hidden.add(root);
        if (config.taskCache().enabled()) {
            hidden.add(Path.of(config.taskCache().dir()).toAbsolutePath().normalize());
        }
        config.sandbox().hiddenPaths().orElse(List.of()).stream().filter(p -> !p.isBlank())
                .map(p -> Path.of(p).toAbsolutePath().normalize()).forEach(hidden::add);
        boolean enabled = switch (config.sandbox().mode()) {
            case OFF -> false;
            case ON -> {
                if (!works()) {
                    throw new IllegalStateException("reprise.runner.sandbox.mode=on, but bubblewrap cannot run here: install it"
                            + " (apt-get install bubblewrap) and allow user namespaces, or set the mode to auto or off");
                }
                yield true;
            }
            case AUTO -> {
                boolean works = works();
                if (!works) {
                    LOG.warn("Builds run without a sandbox: bubblewrap (bwrap) is missing or cannot create namespaces here,"
                            + " so a build could read other builds' workspaces (apt-get install bubblewrap)");
                }
                yield works;
            }
        };
        return new Sandbox(enabled, List.copyOf(hidden));
    }

    /** The command line that runs {@code bash -c command} for the build whose workspace is {@code workspace}. */
    List<String> wrap(String command, Path workspace) {
        List<String> line = new ArrayList<>(List.of("setsid"));
        if (enabled) {
            // Its own process namespace and /proc: other builds' processes (and their /proc/PID/cwd) are not there.
            line.addAll(List.of("bwrap", "--die-with-parent", "--dev-bind", "/", "/", "--unshare-pid", "--proc", "/proc"));
            for (Path path : hidden) {
                if (Files.isDirectory(path)) {
                    line.addAll(List.of("--tmpfs", path.toString()));
                } else if (Files.isRegularFile(path)) {
                    line.addAll(List.of("--ro-bind", "/dev/null", path.toString()));
                }
            }
            Path own = workspace.toAbsolutePath().normalize();
            line.addAll(List.of("--bind", own.toString(), own.toString(), "--chdir", own.toString(), "--"));
        }
        line.addAll(List.of("bash", "-c", command));
        return line;
    }

    /** True when bwrap starts a process in new namespaces here. */
    private static boolean works() {
        try {
            Process probe = new ProcessBuilder("bwrap", "--dev-bind", "/", "/", "--unshare-pid", "--proc", "/proc", "--tmpfs", "/tmp", "true")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return probe.waitFor(10, TimeUnit.SECONDS) && probe.exitValue() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
