package dev.reprise.taskcache;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/** Runs a command, streaming its stdout and stderr to the terminal while recording both. */
final class Execution {

    record Finished(int exitCode, byte[] log) {
    }

    private Execution() {
    }

    static Finished run(List<String> command, Path workspace, Map<String, String> environment, OutputStream out, OutputStream err)
            throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).directory(workspace.toFile())
                .redirectInput(ProcessBuilder.Redirect.INHERIT);
        builder.environment().clear();
        builder.environment().putAll(environment);
        Process process = builder.start();
        TerminalLog log = new TerminalLog();
        Thread stdout = pump(process.getInputStream(), out, log, TerminalLog.OUT);
        Thread stderr = pump(process.getErrorStream(), err, log, TerminalLog.ERR);
        int exit = process.waitFor();
        stdout.join();
        stderr.join();
        return new Finished(exit, log.toByteArray());
    }

    private static Thread pump(InputStream from, OutputStream to, TerminalLog log, int stream) {
        Thread thread = new Thread(() -> {
            byte[] buffer = new byte[8192];
            try (from) {
                for (int n; (n = from.read(buffer)) > 0; ) {
                    log.append(stream, buffer, 0, n);
                    synchronized (to) {
                        to.write(buffer, 0, n);
                        to.flush();
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, "reprise-" + (stream == TerminalLog.OUT ? "stdout" : "stderr"));
        thread.start();
        return thread;
    }
}
