package dev.reprise.replay.record;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;

/**
 * A recording: the exact messages a live client saw, each with its offset in ms from the first.
 * Stored gzip-compressed as JSON lines: a header line ({@code format}, the build's key fields,
 * duration, message count and bytes), then one {@code {"t":offsetMs,"m":"<message>"}} per message.
 */
public record Recording(Header header, List<Frame> frames) {

    public static final String FORMAT = "reprise-recording/v1";

    /** What the recording is of. */
    public record Header(String format, String cacheKey, String buildId, String tenantId, String repository,
            String commitSha, String tool, String status, long durationMs, int messages, long messageBytes) {
    }

    /** One message, {@code offsetMs} after the first. */
    public record Frame(long offsetMs, String message) {
    }

    /**
     * Where a replay from {@code step} (a step's name or number) starts: the index of that step's
     * StepStarted message, or empty when the build has no such step.
     */
    public java.util.OptionalInt frameOfStep(String step, ObjectMapper json) {
        for (int i = 0; i < frames.size(); i++) {
            JsonNode message = parse(frames.get(i).message(), json);
            if ("dev.reprise.build.step-started.v1".equals(message.path("type").asText())) {
                JsonNode data = message.path("data");
                if (step.equals(data.path("name").asText()) || step.equals(data.path("step").asText())) {
                    return java.util.OptionalInt.of(i);
                }
            }
        }
        return java.util.OptionalInt.empty();
    }

    /** The steps the recording has, as "number:name", for telling a client what it can seek to. */
    public List<String> steps(ObjectMapper json) {
        List<String> steps = new ArrayList<>();
        for (Frame frame : frames) {
            JsonNode message = parse(frame.message(), json);
            if ("dev.reprise.build.step-started.v1".equals(message.path("type").asText())) {
                steps.add(message.path("data").path("step").asText() + ":" + message.path("data").path("name").asText());
            }
        }
        return steps;
    }

    /** One recorded message as JSON. @throws IllegalArgumentException when it is not JSON */
    static JsonNode parse(String message, ObjectMapper json) {
        try {
            return json.readTree(message);
        } catch (IOException e) {
            throw new IllegalArgumentException("recorded message is not JSON: " + e.getMessage(), e);
        }
    }

    public byte[] toGzip(ObjectMapper json) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (GZIPOutputStream gzip = new GZIPOutputStream(bytes)) {
            gzip.write(json.writeValueAsBytes(header));
            gzip.write('\n');
            for (Frame frame : frames) {
                ObjectNode line = json.createObjectNode().put("t", frame.offsetMs()).put("m", frame.message());
                gzip.write(json.writeValueAsBytes(line));
                gzip.write('\n');
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** @throws IllegalArgumentException when the bytes are not a complete recording of this format */
    /** Roughly what this recording holds on the heap: its message characters plus per-frame overhead. */
    public long memoryBytes() {
        long bytes = 256;
        for (Frame frame : frames) {
            bytes += 64 + 2L * frame.message().length();
        }
        return bytes;
    }

    public static Recording fromGzip(byte[] gzipped, ObjectMapper json) {
        try (GZIPInputStream in = new GZIPInputStream(new ByteArrayInputStream(gzipped))) {
            String[] lines = new String(in.readAllBytes(), StandardCharsets.UTF_8).split("\n");
            Header header = json.readValue(lines[0], Header.class);
            if (!FORMAT.equals(header.format())) {
                throw new IllegalArgumentException("unknown recording format " + header.format());
            }
            List<Frame> frames = new ArrayList<>(lines.length - 1);
            for (int i = 1; i < lines.length; i++) {
                JsonNode line = json.readTree(lines[i]);
                frames.add(new Frame(line.path("t").asLong(), line.path("m").asText()));
            }
            if (frames.size() != header.messages()) {
                throw new IllegalArgumentException("recording of " + header.buildId() + " is truncated: "
                        + frames.size() + " of " + header.messages() + " messages");
            }
            return new Recording(header, List.copyOf(frames));
        } catch (IOException e) {
            throw new IllegalArgumentException("not a readable recording: " + e.getMessage(), e);
        }
    }
}
