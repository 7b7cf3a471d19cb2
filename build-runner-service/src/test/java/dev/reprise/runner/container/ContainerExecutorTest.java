package dev.reprise.runner.container;

import dev.reprise.testing.LocalRegistry;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.core.DefaultDockerClientConfig;
import com.github.dockerjava.core.DockerClientImpl;
import com.github.dockerjava.httpclient5.ApacheDockerHttpClient;
import com.sun.net.httpserver.HttpServer;
import dev.reprise.events.BuildEvent;
import dev.reprise.events.BuildOutput;
import dev.reprise.events.BuildRequested;
import dev.reprise.events.BuildStatus;
import dev.reprise.events.OutputStream;
import dev.reprise.events.StepFinished;
import dev.reprise.events.StepStarted;
import dev.reprise.runner.config.RunnerConfig;
import dev.reprise.runner.service.BuildExecutor;
import dev.reprise.runner.service.BuildOutcome;
import dev.reprise.runner.service.RunningBuild;
import dev.reprise.runner.service.TestRunnerConfig;
import dev.reprise.testing.TestGitRepo;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Builds in containers through the real Docker Engine API (podman's, from deploy/local/infra.sh
 * up images) and the real local registry. The image-cache service is stood in for by a small
 * HTTP server answering its resolve call (the real pair is exercised end to end in e2e).
 */
class ContainerExecutorTest {

    private static final String DOCKER_HOST = Optional.ofNullable(System.getenv("DOCKER_HOST"))
            .orElse("unix://" + Path.of(System.getProperty("user.dir")).resolve("../.reprise/run/podman.sock").normalize());
    private static final String BASE = "127.0.0.1:5000/reprise/base:bookworm";

    @TempDir
    Path tmp;

    /** Traversable by the builds' own uids, which reach their workspaces under it (JUnit makes it owner-only). */
    @org.junit.jupiter.api.BeforeEach
    void openTemporaryDirectory() throws java.io.IOException {
        java.nio.file.Files.setPosixFilePermissions(tmp, java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"));
    }

    private final List<BuildEvent> events = Collections.synchronizedList(new ArrayList<>());
    private final AtomicReference<String> answer = new AtomicReference<>();
    private final AtomicReference<String> asked = new AtomicReference<>();
    private HttpServer imageCache;
    private static final String IMAGE_CACHE_TOKEN = "rpr_" + "t".repeat(43);
    private String pinnedBase;

    @BeforeEach
    void setUp() throws Exception {
        LocalRegistry.awaitBaseImage();
        pinnedBase = "127.0.0.1:5000/reprise/base@" + registryDigest("reprise/base", "bookworm");
        imageCache = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        imageCache.createContext("/api/v1/images/resolve", exchange -> {
            asked.set(new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8));
            // Like the real service: no token, no answer.
            String[] statusAndBody = ("Bearer " + IMAGE_CACHE_TOKEN).equals(exchange.getRequestHeaders().getFirst("Authorization"))
                    ? answer.get().split(" ", 2) : new String[] {"401", "{\"status\":401,\"detail\":\"missing credentials\"}"};
            byte[] body = statusAndBody[1].getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(Integer.parseInt(statusAndBody[0]), body.length);
            exchange.getResponseBody().write(body);
            exchange.close();
        });
        imageCache.start();
    }

    @AfterEach
    void tearDown() {
        imageCache.stop(0);
    }

    @Test
    void aBuildWithAnImageSpecRunsInTheResolvedImageAndStreamsItsOutput() throws Exception {
        answer.set("200 {\"result\":\"hit\",\"image\":{\"pinnedReference\":\"" + pinnedBase + "\"}}");
        String sha = repository("cat /etc/debian_version; echo \"home=$HOME pwd=$PWD image=$REPRISE_IMAGE\";"
                + " grep NoNewPrivs /proc/self/status; echo to-stderr >&2; echo made > out.txt; exit 3");

        BuildOutcome outcome = run(sha, Map.of(), 60);

        assertThat(outcome.status()).isEqualTo(BuildStatus.FAILURE);
        assertThat(outcome.exitCode()).isEqualTo(3);
        assertThat(steps()).containsExactly("start checkout", "finish checkout 0", "start image", "finish image 0", "start build",
                "finish build 3");
        String stdout = output(OutputStream.STDOUT);
        assertThat(stdout).contains("reprise: image cache hit: " + pinnedBase).containsPattern("\\n12\\.\\d+\\n")
                .contains("home=/workspace pwd=/workspace image=" + pinnedBase).containsPattern("NoNewPrivs:\\s+1");
        assertThat(output(OutputStream.STDERR)).isEqualTo("to-stderr\n");
        assertThat(asked.get()).contains("\"type\":\"apt\"").contains("\"name\":\"hello\"");
        assertThat(containersOf()).as("the container is removed").isEmpty();
    }

    @Test
    void aBuildPastItsTimeoutHasItsContainerStoppedAndRemoved() throws Exception {
        answer.set("200 {\"result\":\"hit\",\"image\":{\"pinnedReference\":\"" + pinnedBase + "\"}}");
        String sha = repository("echo started; sleep 300");

        long start = System.nanoTime();
        BuildOutcome outcome = run(sha, Map.of(), 5);

        assertThat(outcome.status()).isEqualTo(BuildStatus.TIMEOUT);
        assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(40));
        assertThat(output(OutputStream.STDOUT)).contains("started");
        assertThat(containersOf()).isEmpty();
    }

    @Test
    void aSpecTheImageServiceRefusesFailsTheBuildWithItsReason() throws Exception {
        answer.set("400 {\"status\":400,\"detail\":\"unknown dependency type 'brew': use one of system, apt, npm, pip\"}");
        String sha = repository("echo never");

        BuildOutcome outcome = run(sha, Map.of(), 60);

        assertThat(outcome.status()).isEqualTo(BuildStatus.FAILURE);
        assertThat(outcome.reason()).contains("not a valid image spec").contains("unknown dependency type 'brew'");
        assertThat(steps()).containsExactly("start checkout", "finish checkout 0", "start image", "finish image 1");
        assertThat(output(OutputStream.STDOUT)).doesNotContain("never");
    }

    @Test
    void aRefusedResolveFailsTheBuildSayingTheTokenMustBeReadWrite() throws Exception {
        answer.set("403 {\"status\":403,\"detail\":\"a build of this dependency set needs a read-write token, and this token may only read\"}");
        String sha = repository("echo never");

        BuildOutcome outcome = run(sha, Map.of(), 60);

        assertThat(outcome.status()).isEqualTo(BuildStatus.FAILURE);
        assertThat(outcome.reason()).contains("the image-cache service refused").contains("needs a read-write token")
                .contains("read-write IMAGE_CACHE_TOKEN");
        assertThat(steps()).containsExactly("start checkout", "finish checkout 0", "start image", "finish image 1");
        assertThat(output(OutputStream.STDOUT)).doesNotContain("never");
    }

    @Test
    void aFailingOrUnreachableImageServiceRunsTheBuildInTheBaseImageWithAWarning() throws Exception {
        // The runner counts on the global registry (Quarkus binds its Prometheus registry there); here a simple one.
        io.micrometer.core.instrument.simple.SimpleMeterRegistry registry = new io.micrometer.core.instrument.simple.SimpleMeterRegistry();
        io.micrometer.core.instrument.Metrics.addRegistry(registry);
        answer.set("500 {\"status\":500}");
        String sha = repository("echo image=$REPRISE_IMAGE");

        BuildOutcome failing = run(sha, Map.of(), 60);
        assertThat(failing.status()).isEqualTo(BuildStatus.SUCCESS);
        assertThat(output(OutputStream.STDOUT)).contains("warning: the image-cache service at").contains("answered 500")
                .contains("image=" + BASE);

        events.clear();
        imageCache.stop(0);
        BuildOutcome away = run(sha, Map.of(), 60);
        assertThat(away.status()).isEqualTo(BuildStatus.SUCCESS);
        assertThat(output(OutputStream.STDOUT)).contains("could not be asked").contains("image=" + BASE);
        assertThat(registry.counter("reprise.runner.image.fallbacks", "reason", "unavailable").count()).isEqualTo(2);
        io.micrometer.core.instrument.Metrics.removeRegistry(registry);
    }

    @Test
    void noCacheBypassesTheImageCacheAndRunsInTheDefaultImage() throws Exception {
        answer.set("500 {}");
        String sha = repository("echo image=$REPRISE_IMAGE");

        BuildOutcome outcome = run(sha, Map.of("NO_CACHE", "1"), 60);

        assertThat(outcome.status()).isEqualTo(BuildStatus.SUCCESS);
        assertThat(asked.get()).as("the image cache was not asked").isNull();
        assertThat(output(OutputStream.STDOUT)).contains("image cache bypassed").contains("image=" + BASE);
    }

    @Test
    void aBuildWithoutASpecRunsOnTheHostAsBefore() throws Exception {
        repo = TestGitRepo.withBuildScript("test -f /etc/debian_version && echo host-build");

        BuildOutcome outcome = run(repo.head(), Map.of(), 60);

        assertThat(outcome.status()).isEqualTo(BuildStatus.SUCCESS);
        assertThat(steps()).containsExactly("start checkout", "finish checkout 0", "start build", "finish build 0");
        assertThat(asked.get()).isNull();
    }

    // --- helpers ---

    private TestGitRepo repo;

    private String repository(String script) throws Exception {
        repo = TestGitRepo.withBuildScript(script);
        Files.createDirectories(repo.dir().resolve(".reprise"));
        Files.writeString(repo.dir().resolve(".reprise/image.json"), "{\"dependencies\":[{\"type\":\"apt\",\"name\":\"hello\"}]}\n");
        repo.git("add", ".reprise/image.json");
        repo.git("commit", "-q", "-m", "image spec");
        return repo.head();
    }

    private String buildId;

    private BuildOutcome run(String sha, Map<String, String> env, int timeoutSeconds) {
        buildId = "b-" + UUID.randomUUID();
        BuildRequested request = new BuildRequested(buildId, "dev", "k".repeat(64), repo.url(), "main", sha, "custom", "./build.sh",
                env, false, Instant.now(), timeoutSeconds);
        RunnerConfig config = config(timeoutSeconds);
        return new BuildExecutor(config, "test-runner", Optional.empty(), Optional.of(new ContainerExecutor(config.container())))
                .run(request, events::add, new RunningBuild(buildId, Duration.ofSeconds(1)));
    }

    private List<String> steps() {
        return TestRunnerConfig.steps(events);
    }

    private String output(OutputStream stream) {
        return TestRunnerConfig.output(events, stream);
    }

    private List<String> containersOf() throws Exception {
        DefaultDockerClientConfig clientConfig = DefaultDockerClientConfig.createDefaultConfigBuilder().withDockerHost(DOCKER_HOST).build();
        try (DockerClient docker = DockerClientImpl.getInstance(clientConfig,
                new ApacheDockerHttpClient.Builder().dockerHost(URI.create(DOCKER_HOST)).build())) {
            return docker.listContainersCmd().withShowAll(true).withLabelFilter(Map.of("dev.reprise.build", buildId)).exec()
                    .stream().map(c -> c.getId()).toList();
        }
    }

    private static String registryDigest(String repository, String tag) throws Exception {
        HttpResponse<Void> head = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:5000/v2/" + repository + "/manifests/" + tag)).method("HEAD", HttpRequest.BodyPublishers.noBody())
                .header("Accept", "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json").build(),
                HttpResponse.BodyHandlers.discarding());
        assertThat(head.statusCode()).as("the base image is in the local registry (deploy/local/infra.sh up images)").isEqualTo(200);
        return head.headers().firstValue("Docker-Content-Digest").orElseThrow();
    }

    private RunnerConfig config(int timeoutSeconds) {
        URI url = URI.create("http://127.0.0.1:" + imageCache.getAddress().getPort());
        RunnerConfig.Container container = new RunnerConfig.Container() {
            public Mode mode() { return Mode.AUTO; }
            public String dockerHost() { return DOCKER_HOST; }
            public Optional<URI> imageCacheUrl() { return Optional.of(url); }
            public Optional<String> imageCacheToken() { return Optional.of(IMAGE_CACHE_TOKEN); }
            public Optional<java.nio.file.Path> imageCacheTokenFile() { return Optional.empty(); }
            public String defaultImage() { return BASE; }
            public String specFile() { return ".reprise/image.json"; }
            public OnMiss onMiss() { return OnMiss.WAIT; }
            public Duration waitTimeout() { return Duration.ofMinutes(1); }
            public double cpus() { return 1; }
            public long memoryBytes() { return 512L << 20; }
            public long pidsLimit() { return 512; }
        };
        return new TestRunnerConfig(tmp.resolve("workspaces"), timeoutSeconds).withContainer(container);
    }
}
