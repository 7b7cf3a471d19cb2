package dev.reprise.runner.service;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A command started in its own session and process group ({@code setsid}), so that stopping it
 * stops everything it started, including grandchildren that outlive their parents.
 */
public final class ProcessTree implements StepProcess {

    private final Process process;

    private ProcessTree(Process process) {
        this.process = process;
    }

    /** Starts {@code commandLine} (setsid, then the command: see {@link Sandbox#wrap}) in {@code dir} with exactly {@code env}. */
    static ProcessTree start(List<String> commandLine, Path dir, Map<String, String> env) throws IOException {
        ProcessBuilder builder = new ProcessBuilder(commandLine)
                .directory(dir.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        builder.environment().clear();
        builder.environment().putAll(env);
        return new ProcessTree(builder.start());
    }

    public Process process() {
        return process;
    }

    @Override
    public java.io.InputStream stdout() {
        return process.getInputStream();
    }

    @Override
    public java.io.InputStream stderr() {
        return process.getErrorStream();
    }

    @Override
    public int exitCode() {
        return process.exitValue();
    }

    @Override
    public void close() {
        // kill(ZERO) already ran when the command exited; nothing else is held.
    }

    @Override
    public boolean waitFor(Duration timeout) throws InterruptedException {
        return process.waitFor(Math.max(0, timeout.toMillis()), TimeUnit.MILLISECONDS);
    }

    /**
     * SIGTERM to the whole process group, SIGKILL after {@code grace}; descendants that left the
     * group are killed through the process tree as well.
     */
    @Override
    public void kill(Duration grace) {
        // setsid exec'd bash in place, so the group id is our child's pid.
        long group = process.pid();
        List<ProcessHandle> descendants = process.descendants().toList();
        signalGroup("TERM", group);
        try {
            process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        signalGroup("KILL", group);
        descendants.forEach(ProcessHandle::destroyForcibly);
        process.descendants().forEach(ProcessHandle::destroyForcibly);
        // Signal through the handle: Process.destroyForcibly() also closes our end of the pipes,
        // which loses output the command wrote just before it exited and the pumps have not read yet.
        process.toHandle().destroyForcibly();
    }

    private static void signalGroup(String signal, long group) {
        try {
            new ProcessBuilder("kill", "-" + signal, "--", "-" + group)
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD)
                    .start().waitFor(5, TimeUnit.SECONDS);
        } catch (IOException e) {
            // the group may already be gone; the forcible destroy below still runs
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
