package dev.reprise.e2e;

import static dev.reprise.e2e.Builds.BUILD_TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reprise.e2e.Services.Answer;
import dev.reprise.testing.RecordingWebSocket;
import dev.reprise.testing.TestGitRepo;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Issue 4's acceptance against the running services: record, replay, policy, crash, asciicast. */
class RecordReplayIT {

    private static final int BUILDS = 100;

    @Test
    void aHundredBuildsAreReplayedByteForByteWithoutAReplayError() throws Exception {
        // Every build prints its own lines (colours, UTF-8, stderr); one in ten fails (failures are cached a day).
        TestGitRepo repo = TestGitRepo.withBuildScript("""
                n=${1:-0}
                echo "build $n: compiling"
                printf '\\033[32mgreen %s\\033[0m ✓ ünïcödé\\n' "$n"
                for i in 1 2 3; do echo "build $n line $i"; done
                echo "warning from $n" >&2
                if [ $((n % 10)) -eq 7 ]; then echo "failing $n" >&2; exit 3; fi
                echo "done $n"
                """);
        long errorsBefore = stats().path("replayErrors").asLong();
        List<JsonNode> builds = new ArrayList<>();
        List<RecordingWebSocket> live = new ArrayList<>();
        for (int n = 0; n < BUILDS; n++) {
            JsonNode build = Builds.live(repo.url(), "./build.sh " + n, Map.of());
            builds.add(build);
            live.add(RecordingWebSocket.open(build.path("streamUrl").asText()));
        }
        for (int n = 0; n < BUILDS; n++) {
            assertThat(live.get(n).awaitClose(BUILD_TIMEOUT)).as("live stream of build " + n).isEqualTo(1000);
            assertThat(live.get(n).messages().get(live.get(n).messages().size() - 1))
                    .contains(n % 10 == 7 ? "\"FAILURE\"" : "\"SUCCESS\"");
        }
        for (int n = 0; n < BUILDS; n++) {
            JsonNode build = builds.get(n);
            List<String> recorded = Builds.awaitRecording(build.path("cacheKey").asText(), build.path("buildId").asText());
            assertThat(recorded).as("recording of build " + n).isEqualTo(live.get(n).messages());

            JsonNode hit = Builds.request(repo.url(), "./build.sh " + n, Map.of());
            assertThat(hit.path("cached").asBoolean()).as("second request of build " + n).isTrue();
            RecordingWebSocket replay = RecordingWebSocket.open(Services.withQuery(hit.path("streamUrl").asText(), "speed=0"));
            assertThat(replay.awaitClose(BUILD_TIMEOUT)).isEqualTo(1000);
            assertThat(replay.messages()).as("replay of build " + n + ", byte for byte").isEqualTo(live.get(n).messages());
        }
        assertThat(stats().path("replayErrors").asLong()).as("replay errors").isEqualTo(errorsBefore);
    }

    @Test
    void freshRebuildsAndReplacesTheRecordingAndInvalidationTakesItOut() throws Exception {
        TestGitRepo repo = TestGitRepo.withBuildScript("echo \"built at $(date +%s%N)\"");
        Builds.Recorded first = Builds.recorded(repo.url(), "./build.sh", Map.of());
        String key = first.cacheKey();
        List<String> firstRecording = first.messages();

        JsonNode fresh = Builds.live(repo.url(), "./build.sh", Map.of("fresh", true));
        assertThat(Builds.awaitFinal(fresh.path("buildId").asText()).path("status").asText()).isEqualTo("SUCCESS");
        List<String> freshRecording = Builds.awaitRecording(key, fresh.path("buildId").asText());
        assertThat(freshRecording).as("fresh really rebuilt").isNotEqualTo(firstRecording);
        JsonNode hit = Builds.request(repo.url(), "./build.sh", Map.of());
        assertThat(hit.path("cached").asBoolean()).isTrue();
        RecordingWebSocket replay = RecordingWebSocket.open(Services.withQuery(hit.path("streamUrl").asText(), "speed=0"));
        assertThat(replay.awaitClose(BUILD_TIMEOUT)).isEqualTo(1000);
        assertThat(replay.messages()).as("hits now replay the fresh build").isEqualTo(freshRecording);

        Answer byKey = Services.delete("gateway", "/api/v1/cache/" + key);
        assertThat(byKey.status()).as(String.valueOf(byKey.body())).isEqualTo(200);
        assertThat(byKey.body().path("removed").asInt()).isEqualTo(1);
        assertThat(Services.delete("gateway", "/api/v1/cache/" + key).status()).isEqualTo(404);
        Builds.recorded(repo.url(), "./build.sh", Map.of()); // a miss now

        Answer byRepository = Services.delete("gateway", "/api/v1/cache?repository=" + repo.url() + ".git/");
        assertThat(byRepository.status()).as(String.valueOf(byRepository.body())).isEqualTo(200);
        assertThat(byRepository.body().path("removed").asInt()).isEqualTo(1);
        assertThat(Services.get("replay", "/api/v1/recordings/" + key).status()).isEqualTo(404);
        assertThat(Builds.request(repo.url(), "./build.sh", Map.of()).path("cached").asBoolean()).isFalse();
    }

    @Test
    void aStalePopularHitIsServedAtOnceWhileARefreshRebuildsIt() throws Exception {
        TestGitRepo repo = TestGitRepo.withBuildScript("echo \"built at $(date +%s%N)\"");
        Builds.Recorded first = Builds.recorded(repo.url(), "./build.sh", Map.of());
        String key = first.cacheKey();
        // Eight days old and read ten times: past the 7-day refresh age of a popular entry.
        Services.sql("UPDATE replay.recordings SET created_at = now() - interval '8 days', access_count = 10"
                + " WHERE cache_key = '" + key + "'");

        JsonNode stale = Builds.request(repo.url(), "./build.sh", Map.of());
        assertThat(stale.path("cached").asBoolean()).isTrue();
        assertThat(stale.path("stale").asBoolean()).isTrue();
        assertThat(stale.path("label").asText()).isEqualTo("Cached");
        assertThat(stale.path("ageSeconds").asLong()).isGreaterThan(7 * 86_400L);
        // The build, read back later (another browser, the build list), says the same of the recording it served.
        Answer served = Services.getAuthorized("gateway", "/api/v1/builds/" + stale.path("buildId").asText());
        assertThat(served.body().path("cached").asBoolean()).isTrue();
        assertThat(served.body().path("label").asText()).isEqualTo("Cached");
        assertThat(served.body().path("ageSeconds").asLong()).isEqualTo(stale.path("ageSeconds").asLong());
        assertThat(served.body().path("stale").asBoolean()).isTrue();
        assertThat(served.body().path("refreshBuildId").asText()).isEqualTo(stale.path("refreshBuildId").asText());
        String refresh = stale.path("refreshBuildId").asText();
        assertThat(refresh).isNotEmpty().isNotEqualTo(first.buildId());

        assertThat(Builds.awaitFinal(refresh).path("status").asText()).isEqualTo("SUCCESS");
        Builds.awaitRecording(key, refresh);
        JsonNode after = Builds.request(repo.url(), "./build.sh", Map.of());
        assertThat(after.path("cached").asBoolean()).isTrue();
        assertThat(after.path("label").asText()).isEqualTo("Fresh");
        assertThat(Services.getAuthorized("gateway", "/api/v1/builds/" + after.path("buildId").asText()).body().path("label").asText())
                .isEqualTo("Fresh");
        assertThat(Services.getAuthorized("gateway", "/api/v1/builds/" + refresh).body().has("label"))
                .as("a live build has no hit label").isFalse();
        assertThat(after.has("stale")).as("a refreshed entry is no longer stale").isFalse();
    }

    @Test
    void anExportedRecordingPlaysInTheStockAsciinema() throws Exception {
        TestGitRepo repo = TestGitRepo.withBuildScript("echo 'hello from reprise'; printf '\\033[1mbold\\033[0m line\\n'");
        String key = Builds.recorded(repo.url(), "./build.sh", Map.of()).cacheKey();

        Path cast = Files.createTempFile("reprise-", ".cast");
        Files.writeString(cast, Services.text("replay", "/api/v1/recordings/" + key + "/recording.cast"));
        // asciinema cat reads keys from /dev/tty: give it a pseudo-terminal.
        Services.Run cat = Services.script("script", "-qec", "asciinema cat " + cast, "/dev/null");
        assertThat(cat.exitCode()).as(cat.output()).isZero();
        assertThat(cat.output()).contains("hello from reprise\r\n", "\u001b[1mbold\u001b[0m line\r\n", "==> step 2: build",
                "==> SUCCESS (exit 0)");
        Files.delete(cast);
    }

    // --- helpers ---

    private static JsonNode stats() throws Exception {
        Answer stats = Services.getAuthorized("gateway", "/api/v1/stats");
        assertThat(stats.status()).as(String.valueOf(stats.body())).isEqualTo(200);
        return stats.body();
    }
}
