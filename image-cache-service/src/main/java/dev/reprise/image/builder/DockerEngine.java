package dev.reprise.image.builder;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.command.BuildImageResultCallback;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.BuildResponseItem;
import com.github.dockerjava.api.model.Frame;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.PushResponseItem;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import dev.reprise.image.config.ImageConfig;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * The Docker Engine API through docker-java: a Docker daemon in production, podman's compatible
 * service where there is none; the same wire protocol either way.
 */
@ApplicationScoped
public class DockerEngine {

    /** What a command in a throw-away container printed and how it exited. */
    public record Ran(int exitCode, String output) {
    }

    private final DockerClient docker;
    private final String host;

    public DockerEngine(ImageConfig config) {
        this.host = config.dockerHost();
        DefaultDockerClientConfig clientConfig = DefaultDockerClientConfig.createDefaultConfigBuilder()
                .withDockerHost(host).withApiVersion("1.41").build();
        ApacheDockerHttpClient http = new ApacheDockerHttpClient.Builder().dockerHost(URI.create(host)).maxConnections(16)
                .connectionTimeout(Duration.ofSeconds(5)).responseTimeout(Duration.ofMinutes(30)).build();
        this.docker = DockerClientImpl.getInstance(clientConfig, http);
    }

    public String host() {
        return host;
    }

    /** True when the engine answers its ping. */
    public boolean reachable() {
        try {
            docker.pingCmd().exec();
            return true;
        } catch (RuntimeException e) {
            return false;
        }
    }

    /** Builds {@code dockerfile} (the only file of the context) as {@code tag}; every line of the build goes to {@code log}. */
    public String build(String dockerfile, String tag, Duration timeout, Consumer<String> log) {
        BuildImageResultCallback callback = new BuildImageResultCallback() {
            @Override
            public void onNext(BuildResponseItem item) {
                if (item.getStream() != null) {
                    item.getStream().lines().filter(line -> !line.isBlank()).forEach(log);
                }
                if (item.getErrorDetail() != null && item.getErrorDetail().getMessage() != null) {
                    log.accept("error: " + item.getErrorDetail().getMessage());
                }
                super.onNext(item);
            }
        };
        docker.buildImageCmd(new ByteArrayInputStream(context(dockerfile))).withTags(Set.of(tag)).withPull(false)
                .withRemove(true).withForcerm(true).exec(callback);
        return callback.awaitImageId(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Pushes {@code name:tag}; progress lines go to {@code log}. */
    public void push(String name, String tag, Duration timeout, Consumer<String> log) throws InterruptedException {
        ResultCallback.Adapter<PushResponseItem> callback = new ResultCallback.Adapter<>() {
            @Override
            public void onNext(PushResponseItem item) {
                if (item.getErrorDetail() != null && item.getErrorDetail().getMessage() != null) {
                    onError(new IllegalStateException("push of " + name + ":" + tag + " failed: " + item.getErrorDetail().getMessage()));
                    return;
                }
                if (item.getStatus() != null && item.getProgressDetail() == null) {
                    log.accept(item.getStatus());
                }
            }
        };
        docker.pushImageCmd(name).withTag(tag).exec(callback);
        if (!callback.awaitCompletion(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("push of " + name + ":" + tag + " did not finish within " + timeout);
        }
    }

    /** Runs {@code command} in a new container of {@code image} (no network needed, removed afterwards). */
    public Ran run(String image, List<String> command, Duration timeout) throws InterruptedException {
        pullIfMissing(image, timeout);
        String id = docker.createContainerCmd(image).withCmd(command)
                .withHostConfig(HostConfig.newHostConfig().withPrivileged(false).withMemory(512L << 20)).exec().getId();
        try {
            docker.startContainerCmd(id).exec();
            Integer exit = docker.waitContainerCmd(id).start().awaitStatusCode(timeout.toMillis(), TimeUnit.MILLISECONDS);
            ByteArrayOutputStream output = new ByteArrayOutputStream();
            ResultCallback.Adapter<Frame> logs = new ResultCallback.Adapter<>() {
                @Override
                public void onNext(Frame frame) {
                    output.writeBytes(frame.getPayload());
                }
            };
            docker.logContainerCmd(id).withStdOut(true).withStdErr(true).withFollowStream(false).exec(logs).awaitCompletion(30, TimeUnit.SECONDS);
            return new Ran(exit == null ? -1 : exit, output.toString(StandardCharsets.UTF_8));
        } finally {
            removeContainer(id);
        }
    }

    /**
     * Pulls {@code image} unless the engine has it. A reference pinned by digest is pulled even
     * after a local build and push: podman records the local digest, not the registry's.
     */
    public void pullIfMissing(String image, Duration timeout) throws InterruptedException {
        try {
            docker.inspectImageCmd(image).exec();
            return;
        } catch (NotFoundException e) {
            // pull it
        }
        if (!docker.pullImageCmd(image).start().awaitCompletion(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("pulling " + image + " did not finish within " + timeout);
        }
    }

    /** Removes a local image; a missing one is fine. */
    public void removeImage(String reference) {
        try {
            docker.removeImageCmd(reference).withForce(true).exec();
        } catch (NotFoundException e) {
            // already gone
        }
    }

    private void removeContainer(String id) {
        try {
            docker.removeContainerCmd(id).withForce(true).withRemoveVolumes(true).exec();
        } catch (NotFoundException e) {
            // already gone
        }
    }

    /** A build context holding just the Dockerfile. */
    static byte[] context(String dockerfile) {
        byte[] content = dockerfile.getBytes(StandardCharsets.UTF_8);
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(bytes)) {
            TarArchiveEntry entry = new TarArchiveEntry("Dockerfile");
            entry.setSize(content.length);
            entry.setMode(0644);
            tar.putArchiveEntry(entry);
            tar.write(content);
            tar.closeArchiveEntry();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    void close(@Observes ShutdownEvent event) throws IOException {
        docker.close();
    }
}
