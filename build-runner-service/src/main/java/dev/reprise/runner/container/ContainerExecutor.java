package dev.reprise.runner.container;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.exception.NotFoundException;
import com.github.dockerjava.api.model.Bind;
import com.github.dockerjava.api.model.HostConfig;
import com.github.dockerjava.api.model.Volume;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import dev.reprise.runner.config.RunnerConfig;
import dev.reprise.runner.service.StepProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * Runs build steps in containers through the Docker Engine API: the image resolved for the
 * build's dependency set, the workspace mounted at {@code /workspace}, CPU, memory and process
 * limits, never privileged, no new privileges, and the container removed afterwards.
 */
public final class ContainerExecutor {

    public static final String WORKSPACE = "/workspace";
    /** Host paths and settings that mean nothing inside the image: the image's own apply. */
    private static final Set<String> HOST_ONLY = Set.of("PATH", "JAVA_HOME", "MAVEN_OPTS", "GRADLE_OPTS");

    private final RunnerConfig.Container config;
    private final DockerClient docker;
    private final ImageResolver resolver;

    public ContainerExecutor(RunnerConfig.Container config) {
        this.config = config;
        DefaultDockerClientConfig clientConfig = DefaultDockerClientConfig.createDefaultConfigBuilder()
                .withDockerHost(config.dockerHost()).withApiVersion("1.41").build();
        ApacheDockerHttpClient http = new ApacheDockerHttpClient.Builder().dockerHost(URI.create(config.dockerHost())).maxConnections(32)
                .connectionTimeout(Duration.ofSeconds(5)).responseTimeout(Duration.ofHours(2)).build();
        this.docker = DockerClientImpl.getInstance(clientConfig, http);
        this.resolver = new ImageResolver(config);
    }

    /** Whether a build with this checkout runs in a container. */
    public boolean appliesTo(Path workspace) {
        return switch (config.mode()) {
            case ALWAYS -> true;
            case NEVER -> false;
            case AUTO -> Files.isRegularFile(workspace.resolve(config.specFile()));
        };
    }

    public ImageResolver resolver() {
        return resolver;
    }

    public RunnerConfig.Container config() {
        return config;
    }

    /** Pulls the image unless the engine has it (an image pinned by digest usually needs one). */
    public void pull(String image, Duration timeout) throws InterruptedException {
        try {
            docker.inspectImageCmd(image).exec();
            return;
        } catch (NotFoundException e) {
            // pull it
        }
        if (!docker.pullImageCmd(image).start().awaitCompletion(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS)) {
            throw new IllegalStateException("pulling " + image + " took longer than " + timeout);
        }
    }

    /**
     * Starts {@code bash -c command} in a new container of {@code image} with the workspace mounted:
     * as the build's uid ({@code uid} &lt; 0: the image's user), no capabilities, no new privileges,
     * a read-only root file system with a private /tmp.
     */
    public StepProcess start(String image, String buildId, String command, Path workspace, Map<String, String> env, int uid) {
        List<String> variables = env.entrySet().stream().filter(e -> !HOST_ONLY.contains(e.getKey()))
                .map(e -> e.getKey() + "=" + (e.getKey().equals("HOME") ? WORKSPACE : e.getValue())).toList();
        HostConfig host = HostConfig.newHostConfig()
                .withBinds(new Bind(workspace.toAbsolutePath().toString(), new Volume(WORKSPACE)))
                .withNanoCPUs((long) (config.cpus() * 1e9)).withMemory(config.memoryBytes()).withMemorySwap(config.memoryBytes())
                .withPidsLimit(config.pidsLimit()).withPrivileged(false).withSecurityOpts(List.of("no-new-privileges"))
                .withCapDrop(com.github.dockerjava.api.model.Capability.ALL).withReadonlyRootfs(true)
                .withTmpFs(Map.of("/tmp", "rw,nosuid,nodev,size=1g"));
        var create = docker.createContainerCmd(image);
        if (uid >= 0) {
            create = create.withUser(uid + ":" + uid);
        }
        String id = create.withCmd("bash", "-c", command).withWorkingDir(WORKSPACE).withEnv(variables)
                .withLabels(Map.of("dev.reprise.build", buildId)).withHostConfig(host).exec().getId();
        try {
            ContainerRun run = new ContainerRun(docker, id);
            run.start();
            return run;
        } catch (IOException e) {
            docker.removeContainerCmd(id).withForce(true).exec();
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            docker.removeContainerCmd(id).withForce(true).exec();
            throw e;
        }
    }
}
