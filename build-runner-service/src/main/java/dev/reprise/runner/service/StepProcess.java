package dev.reprise.runner.service;

import java.io.InputStream;
import java.time.Duration;

/** A running step's command: a host process tree or a container, streamed and stopped the same way. */
public interface StepProcess {

    InputStream stdout();

    InputStream stderr();

    /** Waits up to {@code timeout}; true when the command exited. */
    boolean waitFor(Duration timeout) throws InterruptedException;

    /** The exit code, once {@link #waitFor} said it exited. */
    int exitCode();

    /** Stops the command and everything it started: politely, then by force after {@code grace}. */
    void kill(Duration grace);

    /** Leaves nothing behind once the step is over (its background children, its container). */
    void close();
}
