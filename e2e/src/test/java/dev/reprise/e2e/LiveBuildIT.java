package dev.reprise.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reprise.e2e.Services.Answer;
import dev.reprise.e2e.Services.Run;
import dev.reprise.testing.TestGitRepo;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.LongStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * The cache-miss path as a user meets it: a build requested at the gateway runs on the runner
 * from a real git repository, and its stream arrives over WebSocket from the replay service,
 * complete and in order, from either of two replay instances, however late the client comes.
 */
@Isolated
class LiveBuildIT {

    private static final Duration BUILD_TIMEOUT = Duration.ofSeconds(90);
    private static final int SECOND_REPLAY_PORT = Integer.parseInt(System.getenv().getOrDefault("REPLAY_2_PORT", "8182"));
    private static Process secondReplay;

    @BeforeAll
    static void startASecondReplayInstance() throws Exception {
        Path jar = Services.ROOT.resolve("replay-service/target/quarkus-app/quarkus-run.jar");
        Path log = Services.ROOT.resolve(".reprise/logs/replay-2.log");
        Files.createDirectories(log.getParent());
        ProcessBuilder builder = new ProcessBuilder("java", "-Xmx256m", "-jar", jar.toString())
                .directory(Services.ROOT.toFile()).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().put("HTTP_PORT", String.valueOf(SECOND_REPLAY_PORT));
        builder.environment().put("MANAGEMENT_PORT", String.valueOf(Services.managementPort(SECOND_REPLAY_PORT)));
        // The same secret as the first instance, so the gateway's tickets open streams on either.
        builder.environment().put("REPRISE_STREAM_SECRET", Services.streamSecret());
        secondReplay = builder.start();
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1)).until(() ->
                Services.get(SECOND_REPLAY_PORT, "/q/health/ready").status() == 200);
    }

    @AfterAll
    static void stopTheSecondReplayInstance() throws InterruptedException {
        if (secondReplay != null) {
            secondReplay.destroy();
            if (!secondReplay.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                secondReplay.destroyForcibly();
            }
        }
    }

    @Test
    void aPassingBuildStreamsExactlyItsLinesInOrderThenSucceeds() throws Exception {
        String repo = TestGitRepo.withBuildScript("for i in $(seq 1 20); do echo \"line $i\"; sleep 0.05; done").url();

        JsonNode build = submit(repo, Map.of());
        BuildStream stream = BuildStream.open(build.path("streamUrl").asText());

        assertThat(stream.awaitClose(BUILD_TIMEOUT)).as("normal close after BuildCompleted").isEqualTo(1000);
        assertThat(stream.stdout()).isEqualTo(lines(1, 20));
        assertGapless(stream);
        assertThat(stream.events().get(0).path("type").asText()).isEqualTo("dev.reprise.build.started.v1");
        assertThat(stream.last().path("type").asText()).isEqualTo("dev.reprise.build.completed.v1");
        assertThat(stream.last().path("data").path("status").asText()).isEqualTo("SUCCESS");
        assertThat(stream.last().path("data").path("exitCode").asInt()).isZero();

        JsonNode status = awaitFinal(build.path("buildId").asText());
        assertThat(status.path("status").asText()).isEqualTo("SUCCESS");
        assertThat(status.path("exitCode").asInt()).isZero();
        assertThat(status.path("commit").asText()).matches("[0-9a-f]{40}");

        String key = build.path("cacheKey").asText();
        await().atMost(BUILD_TIMEOUT).until(() -> Services.get("replay", "/api/v1/recordings/" + key).status() == 200);
        Answer recording = Services.get("replay", "/api/v1/recordings/" + key);
        assertThat(recording.body().path("buildId").asText()).isEqualTo(build.path("buildId").asText());
        assertThat(recording.body().path("label").asText()).isEqualTo("Fresh");
        assertThat(Services.text("replay", "/api/v1/recordings/" + key + "/messages").lines().toList())
                .as("the recording is the live stream, byte for byte").isEqualTo(stream.messages());

        // The same request again is a cache hit: answered at once, replayed byte for byte.
        String body = "{\"repository\":\"" + repo + "\",\"ref\":\"main\",\"tool\":\"custom\",\"command\":\"./build.sh\"}";
        Answer hit = Services.post("gateway", "/api/v1/builds", body);
        assertThat(hit.status()).isEqualTo(202);
        assertThat(hit.body().path("cached").asBoolean()).isTrue();
        assertThat(hit.body().path("cacheKey").asText()).isEqualTo(key);
        assertThat(hit.body().path("status").asText()).isEqualTo("SUCCESS");
        assertThat(hit.body().path("label").asText()).isEqualTo("Fresh");
        assertThat(hit.body().path("ageSeconds").asLong()).isBetween(0L, 120L);
        BuildStream replayed = BuildStream.open(Services.withQuery(hit.body().path("streamUrl").asText(), "speed=0"));
        assertThat(replayed.awaitClose(BUILD_TIMEOUT)).isEqualTo(1000);
        assertThat(replayed.messages()).as("a hit replays the live stream byte for byte").isEqualTo(stream.messages());
        assertThat(Services.getAuthorized("gateway", "/api/v1/builds/" + hit.body().path("buildId").asText())
                .body().path("cached").asBoolean()).isTrue();

        // fresh bypasses the cache: a new live build.
        Answer fresh = Services.post("gateway", "/api/v1/builds", body.replace("}", ",\"fresh\":true}"));
        assertThat(fresh.status()).isEqualTo(202);
        assertThat(fresh.body().path("cached").asBoolean()).isFalse();
        assertThat(fresh.body().path("status").asText()).isEqualTo("QUEUED");
        assertThat(awaitFinal(fresh.body().path("buildId").asText()).path("status").asText()).isEqualTo("SUCCESS");
    }

    @Test
    void aFailingBuildEndsWithFailureAndItsExitCode() throws Exception {
        String repo = TestGitRepo.withBuildScript("echo compiling; echo 'error: it broke' >&2; exit 1").url();

        JsonNode build = submit(repo, Map.of());
        BuildStream stream = BuildStream.open(build.path("streamUrl").asText());

        assertThat(stream.awaitClose(BUILD_TIMEOUT)).isEqualTo(1000);
        assertThat(stream.stdout()).isEqualTo("compiling\n");
        assertThat(stream.last().path("data").path("status").asText()).isEqualTo("FAILURE");
        assertThat(stream.last().path("data").path("exitCode").asInt()).isEqualTo(1);
        assertThat(awaitFinal(build.path("buildId").asText()).path("status").asText()).isEqualTo("FAILURE");
    }

    @Test
    void aBuildPastItsTimeoutEndsWithTimeout() throws Exception {
        String repo = TestGitRepo.withBuildScript("echo waiting; sleep 120").url();

        JsonNode build = submit(repo, Map.of("timeoutSeconds", 3));
        BuildStream stream = BuildStream.open(build.path("streamUrl").asText());

        assertThat(stream.awaitClose(BUILD_TIMEOUT)).isEqualTo(1000);
        assertThat(stream.stdout()).isEqualTo("waiting\n");
        assertThat(stream.last().path("data").path("status").asText()).isEqualTo("TIMEOUT");
        JsonNode status = awaitFinal(build.path("buildId").asText());
        assertThat(status.path("status").asText()).isEqualTo("TIMEOUT");
        assertThat(status.path("reason").asText()).contains("timed out after 3 s");
    }

    @Test
    void identicalRequestsShareOneExecutionAndALateClientOnAnotherInstanceGetsTheSameStream() throws Exception {
        String repo = TestGitRepo.withBuildScript("for i in $(seq 1 30); do echo \"step $i\"; sleep 0.1; done").url();

        CompletableFuture<JsonNode> first = CompletableFuture.supplyAsync(() -> submitUnchecked(repo));
        CompletableFuture<JsonNode> second = CompletableFuture.supplyAsync(() -> submitUnchecked(repo));
        JsonNode a = first.join();
        JsonNode b = second.join();
        assertThat(b.path("buildId").asText()).as("coalesced onto one build").isEqualTo(a.path("buildId").asText());
        assertThat(List.of(a.path("coalesced").asBoolean(), b.path("coalesced").asBoolean())).containsExactlyInAnyOrder(true, false);

        BuildStream early = BuildStream.open(a.path("streamUrl").asText());
        await().atMost(BUILD_TIMEOUT).until(() -> early.stdout().contains("step 15\n"));
        BuildStream late = BuildStream.open(b.path("streamUrl").asText().replaceFirst("^ws://[^/]+", "ws://127.0.0.1:" + SECOND_REPLAY_PORT));

        assertThat(early.awaitClose(BUILD_TIMEOUT)).isEqualTo(1000);
        assertThat(late.awaitClose(BUILD_TIMEOUT)).isEqualTo(1000);
        assertThat(late.messages()).as("byte-identical streams").isEqualTo(early.messages());
        assertThat(early.stdout()).isEqualTo(IntStream.rangeClosed(1, 30).mapToObj(i -> "step " + i + "\n").collect(Collectors.joining()));
        assertThat(early.count("dev.reprise.build.started.v1")).as("one execution").isEqualTo(1);
        assertGapless(early);
    }

    @Test
    void aCancelledBuildStopsAndIsReportedCancelled() throws Exception {
        String repo = TestGitRepo.withBuildScript("echo started; sleep 120").url();
        JsonNode build = submit(repo, Map.of());
        String id = build.path("buildId").asText();
        BuildStream stream = BuildStream.open(build.path("streamUrl").asText());
        await().atMost(BUILD_TIMEOUT).until(() -> stream.stdout().contains("started"));

        Answer cancel = Services.post("gateway", "/api/v1/builds/" + id + "/cancel", "");
        assertThat(cancel.status()).isEqualTo(202);

        assertThat(stream.awaitClose(Duration.ofSeconds(30))).isEqualTo(1000);
        assertThat(stream.last().path("data").path("status").asText()).isEqualTo("CANCELLED");
        assertThat(awaitFinal(id).path("status").asText()).isEqualTo("CANCELLED");
        Answer again = Services.post("gateway", "/api/v1/builds/" + id + "/cancel", "");
        assertThat(again.status()).isEqualTo(409);
        assertThat(again.body().path("detail").asText()).contains("already finished (CANCELLED)");
    }

    @Test
    void restartingTheRunnerMidBuildReportsTheBuildFailedWithAReason() throws Exception {
        String repo = TestGitRepo.withBuildScript("echo started; sleep 120").url();
        JsonNode build = submit(repo, Map.of());
        String id = build.path("buildId").asText();
        BuildStream stream = BuildStream.open(build.path("streamUrl").asText());
        await().atMost(BUILD_TIMEOUT).until(() -> stream.stdout().contains("started"));

        Run stop = Services.script("deploy/local/services.sh", "down", "build-runner");
        assertThat(stop.exitCode()).as(stop.output()).isZero();
        Run start = Services.script("deploy/local/services.sh", "up", "build-runner");
        assertThat(start.exitCode()).as(start.output()).isZero();

        assertThat(stream.awaitClose(BUILD_TIMEOUT)).isEqualTo(1000);
        assertThat(stream.last().path("data").path("status").asText()).isEqualTo("INTERRUPTED");
        JsonNode status = awaitFinal(id);
        assertThat(status.path("status").asText()).isEqualTo("INTERRUPTED");
        assertThat(status.path("reason").asText()).containsPattern("shut down mid-build|stopped during attempt");
        assertGapless(stream);
    }

    @Test
    void badRequestsAre400sNamingTheField() throws IOException {
        assertBadRequest("{\"repository\":\"https://example.org/app.git\",\"tool\":\"ant\"}", "tool");
        assertBadRequest("{\"repository\":\"ftp://example.org/app\",\"tool\":\"make\"}", "repository");
        assertBadRequest("{\"tool\":\"make\"}", "repository");
        assertBadRequest("{\"repository\":\"https://example.org/app.git\",\"tool\":\"make\",\"env\":{"
                + IntStream.range(0, 40).mapToObj(i -> "\"V" + i + "\":\"x\"").collect(Collectors.joining(",")) + "}}", "env");
        assertBadRequest("{\"repository\":\"https://u:p@example.org/app.git\",\"tool\":\"make\"}", "repository");
    }

    // --- helpers ---

    private static void assertBadRequest(String body, String field) throws IOException {
        Answer answer = Services.post("gateway", "/api/v1/builds", body);
        assertThat(answer.status()).as(body).isEqualTo(400);
        assertThat(answer.body().path("field").asText()).isEqualTo(field);
        assertThat(answer.body().path("detail").asText()).startsWith(field + ": ").doesNotContain("u:p@");
    }

    private static JsonNode submit(String repo, Map<String, Object> extra) throws IOException {
        return Builds.live(repo, "./build.sh", extra);
    }

    private static JsonNode submitUnchecked(String repo) {
        try {
            return submit(repo, Map.of());
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static JsonNode awaitFinal(String id) {
        return Builds.awaitFinal(id);
    }

    private static void assertGapless(BuildStream stream) {
        List<Long> seqs = stream.sequence();
        assertThat(seqs).isEqualTo(LongStream.rangeClosed(1, seqs.size()).boxed().toList());
    }

    private static String lines(int from, int to) {
        return IntStream.rangeClosed(from, to).mapToObj(i -> "line " + i + "\n").collect(Collectors.joining());
    }
}
