package dev.reprise.runner.container;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.exception.DockerException;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.StreamType;
import dev.reprise.runner.service.StepProcess;
import java.io.IOException;
import java.io.InputStream;
import java.io.PipedInputStream;
import java.io.PipedOutputStream;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * A step's command running in a container: its stdout and stderr arrive as the engine's log
 * frames and are handed to the executor as two streams, exactly like a host process's pipes.
 */
final class ContainerRun implements StepProcess {

    private final DockerClient docker;
    private final String id;
    private final PipedInputStream stdout = new PipedInputStream(1 << 16);
    private final PipedInputStream stderr = new PipedInputStream(1 << 16);
    private final PipedOutputStream toStdout;
    private final PipedOutputStream toStderr;
    private volatile Integer exitCode;

    ContainerRun(DockerClient docker, String id) throws IOException {
        this.docker = docker;
        this.id = id;
        this.toStdout = new PipedOutputStream(stdout);
        this.toStderr = new PipedOutputStream(stderr);
    }

    /** Starts the created container and follows its output from the first byte. */
    void start() {
        docker.startContainerCmd(id).exec();
        docker.logContainerCmd(id).withStdOut(true).withStdErr(true).withFollowStream(true).exec(new ResultCallback.Adapter<Frame>() {
            @Override
            public void onNext(Frame frame) {
                try {
                    (frame.getStreamType() == StreamType.STDERR ? toStderr : toStdout).write(frame.getPayload());
                } catch (IOException e) {
                    // the reader is gone (the step was given up); nothing to deliver to
                }
            }

            @Override
            public void onError(Throwable throwable) {
                closeSinks();
            }

            @Override
            public void onComplete() {
                closeSinks();
            }
        });
    }

    @Override
    public InputStream stdout() {
        return stdout;
    }

    @Override
    public InputStream stderr() {
        return stderr;
    }

    @Override
    public boolean waitFor(Duration timeout) throws InterruptedException {
        try {
            exitCode = docker.waitContainerCmd(id).start().awaitStatusCode(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS);
            return true;
        } catch (DockerException | com.github.dockerjava.api.exception.DockerClientException e) {
            return false;
        }
    }

    @Override
    public int exitCode() {
        return exitCode == null ? -1 : exitCode;
    }

    @Override
    public void kill(Duration grace) {
        if (exitCode != null) {
            return; // the container stopped with its command: everything in it is gone
        }
        try {
            docker.stopContainerCmd(id).withTimeout((int) Math.max(0, grace.toSeconds())).exec();
        } catch (DockerException e) {
            // already stopped or removed
        }
    }

    @Override
    public void close() {
        try {
            docker.removeContainerCmd(id).withForce(true).withRemoveVolumes(true).exec();
        } catch (DockerException e) {
            // already gone
        }
        closeSinks();
    }

    private void closeSinks() {
        try {
            toStdout.close();
        } catch (IOException ignored) {
            // closing only
        }
        try {
            toStderr.close();
        } catch (IOException ignored) {
            // closing only
        }
    }
}
