package dev.reprise.replay.record;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.junit.jupiter.api.Test;

class AsciicastTest {

    private final ObjectMapper json = new ObjectMapper();

    private final Recording recording = new Recording(new Recording.Header(Recording.FORMAT, "k".repeat(64), "b-1", "dev",
            "file:///srv/app", "0123456789abcdef0123456789abcdef01234567", "make", "FAILURE", 2500, 6, 0), List.of(
            new Recording.Frame(0, "{\"type\":\"dev.reprise.build.started.v1\",\"time\":\"2026-11-22T10:00:00Z\",\"data\":{}}"),
            new Recording.Frame(10, "{\"type\":\"dev.reprise.build.step-started.v1\",\"data\":{\"step\":2,\"name\":\"build\"}}"),
            new Recording.Frame(20, "{\"type\":\"dev.reprise.build.step-cache.v1\",\"data\":{\"step\":2,\"result\":\"hit\",\"source\":\"local\"}}"),
            new Recording.Frame(1510, "{\"type\":\"dev.reprise.build.output.v1\",\"data\":{\"chunk\":\"\\u001b[31mred\\u001b[0m\\nnext\\r\\n\"}}"),
            new Recording.Frame(2000, "{\"type\":\"dev.reprise.build.step-finished.v1\",\"data\":{\"step\":2}}"),
            new Recording.Frame(2500, "{\"type\":\"dev.reprise.build.completed.v1\",\"data\":{\"status\":\"FAILURE\",\"exitCode\":2,\"durationMs\":2500}}")));

    @Test
    void theFileIsAnAsciicastV2HeaderAndTimedEvents() throws Exception {
        List<String> lines = Asciicast.file(recording, json).lines().toList();

        JsonNode header = json.readTree(lines.get(0));
        assertThat(header.path("version").asInt()).isEqualTo(2);
        assertThat(header.path("width").asInt()).isEqualTo(120);
        assertThat(header.path("timestamp").asLong()).isEqualTo(1795341600L);
        assertThat(header.path("duration").asDouble()).isEqualTo(2.5);
        assertThat(header.path("title").asText()).isEqualTo("file:///srv/app @ 0123456789ab (make): FAILURE");
        assertThat(lines.subList(1, lines.size())).containsExactly(
                "[0.01,\"m\",\"build\"]",
                "[0.01,\"o\",\"\\u001B[1m==> step 2: build\\u001B[0m\\r\\n\"]",
                "[0.02,\"o\",\"\\u001B[1;35m    task cache hit (local): outputs restored, replaying the step's log\\u001B[0m\\r\\n\"]",
                "[1.51,\"o\",\"\\u001B[31mred\\u001B[0m\\r\\nnext\\r\\n\"]",
                "[2.5,\"o\",\"\\u001B[1m==> FAILURE (exit 2) in 2500 ms\\u001B[0m\\r\\n\"]");
    }

    @Test
    void eventsFromAStepAreTimedFromThatStep() {
        List<List<String>> events = Asciicast.eventsByFrame(recording, 3, json);
        assertThat(events).hasSize(3);
        assertThat(events.get(0)).containsExactly("[0.0,\"o\",\"\\u001B[31mred\\u001B[0m\\r\\nnext\\r\\n\"]");
        assertThat(events.get(1)).isEmpty();
        assertThat(events.get(2).get(0)).startsWith("[0.99,\"o\"");
    }

    @Test
    void dependencyCacheLinesSayWhatWasRestoredOrSavedAndWhereItCameFrom() throws Exception {
        JsonNode hit = json.readTree("{\"result\":\"hit\",\"paths\":[\".m2/repository\"],\"bytes\":3145728,\"millis\":420,"
                + "\"builtFrom\":\"commit 0123456789ab 'first' on main, build b-1, with java 17.0.13, mvn 3.8.7\"}");
        assertThat(Asciicast.dependencyLine(hit)).isEqualTo("dependencies restored (.m2/repository) · 3.0 MB in 420 ms"
                + " · built from commit 0123456789ab 'first' on main, build b-1, with java 17.0.13, mvn 3.8.7");
        assertThat(Asciicast.dependencyLine(json.readTree("{\"result\":\"error\",\"detail\":\"refused: symlink\"}")))
                .isEqualTo("dependency cache unavailable (refused: symlink): the build downloads its dependencies");
        assertThat(Asciicast.dependencyLine(json.readTree("{\"result\":\"saved\",\"bytes\":1048576,\"millis\":80}")))
                .isEqualTo("dependencies saved for the next build · 1.0 MB in 80 ms");
    }
}
