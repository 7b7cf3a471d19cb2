package dev.reprise.replay.record;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;

/**
 * A recording as asciicast v2 (https://docs.asciinema.org/manual/asciicast/v2/), what the stock
 * asciinema tools and player read: a header line, then {@code [seconds, "o", text]} output events
 * (terminal line endings) and {@code [seconds, "m", label]} markers at each step, so a player can
 * jump to a step. Steps and the final status also show as bold lines of output.
 */
public final class Asciicast {

    public static final String SUBPROTOCOL = "v2.asciicast";
    public static final String MEDIA_TYPE = "application/x-asciicast";
    static final int WIDTH = 120;
    static final int HEIGHT = 40;

    private Asciicast() {
    }

    /** The header line. */
    public static String header(Recording recording, ObjectMapper json) {
        Recording.Header h = recording.header();
        ObjectNode header = json.createObjectNode().put("version", 2).put("width", WIDTH).put("height", HEIGHT);
        long first = recording.frames().isEmpty() ? 0 : startedAt(recording.frames().get(0), json);
        if (first > 0) {
            header.put("timestamp", first);
        }
        header.put("duration", h.durationMs() / 1000.0);
        String commit = h.commitSha() == null ? "" : h.commitSha().substring(0, Math.min(12, h.commitSha().length()));
        header.put("title", h.repository() + " @ " + commit + " (" + h.tool() + "): " + h.status());
        header.putObject("env").put("TERM", "xterm-256color").put("SHELL", "/bin/sh");
        return write(header, json);
    }

    /**
     * The event lines each recorded message becomes (none, one or two), from frame {@code from}
     * on, times relative to that frame: what a paced replay sends per message.
     */
    public static List<List<String>> eventsByFrame(Recording recording, int from, ObjectMapper json) {
        List<Recording.Frame> frames = recording.frames();
        List<List<String>> events = new ArrayList<>(Math.max(0, frames.size() - from));
        long origin = frames.size() > from ? frames.get(from).offsetMs() : 0;
        for (int i = from; i < frames.size(); i++) {
            Recording.Frame frame = frames.get(i);
            double t = Math.max(0, frame.offsetMs() - origin) / 1000.0;
            JsonNode message = Recording.parse(frame.message(), json);
            JsonNode data = message.path("data");
            events.add(switch (message.path("type").asText()) {
                case "dev.reprise.build.output.v1" -> List.of(event(t, "o", terminal(data.path("chunk").asText()), json));
                case "dev.reprise.build.step-started.v1" -> List.of(event(t, "m", data.path("name").asText(), json),
                        event(t, "o", "\u001b[1m==> step " + data.path("step").asInt() + ": " + data.path("name").asText()
                                + "\u001b[0m\r\n", json));
                case "dev.reprise.build.step-cache.v1" -> "hit".equals(data.path("result").asText())
                        ? List.of(event(t, "o", "\u001b[1;35m    task cache hit (" + data.path("source").asText()
                                + "): outputs restored, replaying the step's log\u001b[0m\r\n", json))
                        : List.of();
                case "dev.reprise.build.dependency-cache.v1" -> List.of(event(t, "o", "\u001b[1;34m    " + dependencyLine(data)
                        + "\u001b[0m\r\n", json));
                case "dev.reprise.build.completed.v1" -> List.of(event(t, "o", "\u001b[1m==> " + data.path("status").asText()
                        + (data.hasNonNull("exitCode") ? " (exit " + data.path("exitCode").asInt() + ")" : "")
                        + " in " + data.path("durationMs").asLong() + " ms\u001b[0m\r\n", json));
                default -> List.of();
            });
        }
        return events;
    }

    /** The dependency cache's line, as the web UI shows it. */
    static String dependencyLine(JsonNode data) {
        long bytes = data.path("bytes").asLong();
        String size = bytes > 0 ? String.format(java.util.Locale.ROOT, " · %.1f MB in %d ms", bytes / 1048576.0, data.path("millis").asLong()) : "";
        String from = data.hasNonNull("builtFrom") ? " · built from " + data.path("builtFrom").asText() : "";
        List<String> paths = new ArrayList<>();
        data.path("paths").forEach(p -> paths.add(p.asText()));
        return switch (data.path("result").asText()) {
            case "hit" -> "dependencies restored (" + String.join(", ", paths) + ")" + size + from;
            case "partial" -> "dependencies partly restored from the newest entry of this repository and toolchain" + size + from;
            case "miss" -> "dependency cache miss: the build downloads its dependencies";
            case "bypassed" -> "dependency cache bypassed (fresh build)";
            case "saved" -> "dependencies saved for the next build" + size;
            default -> "dependency cache unavailable (" + data.path("detail").asText(data.path("result").asText())
                    + "): the build downloads its dependencies";
        };
    }

    /** The whole file: header, then one event per line. */
    public static String file(Recording recording, ObjectMapper json) {
        StringBuilder out = new StringBuilder(header(recording, json)).append('\n');
        for (List<String> frame : eventsByFrame(recording, 0, json)) {
            frame.forEach(event -> out.append(event).append('\n'));
        }
        return out.toString();
    }

    /** Bare line feeds become CR LF, as a terminal in raw mode needs. */
    static String terminal(String text) {
        return text.replace("\r\n", "\n").replace("\n", "\r\n");
    }

    private static String event(double t, String code, String data, ObjectMapper json) {
        ArrayNode event = json.createArrayNode().add(Math.round(t * 1_000_000) / 1_000_000.0).add(code).add(data);
        return write(event, json);
    }

    private static long startedAt(Recording.Frame frame, ObjectMapper json) {
        String time = Recording.parse(frame.message(), json).path("time").asText("");
        try {
            return time.isEmpty() ? 0 : java.time.Instant.parse(time).getEpochSecond();
        } catch (java.time.format.DateTimeParseException e) {
            return 0;
        }
    }

    private static String write(JsonNode node, ObjectMapper json) {
        try {
            return json.writeValueAsString(node);
        } catch (JsonProcessingException e) {
            throw new UncheckedIOException(e);
        }
    }
}
