package dev.reprise.replay.record;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.eclipse.microprofile.reactive.messaging.Message;

/**
 * A build being recorded: its messages in sequence order (redeliveries dropped) with their
 * offsets, and the Kafka messages to acknowledge once the recording is durable.
 */
final class PendingRecording {

    private final List<Recording.Frame> frames = new ArrayList<>();
    private final List<Message<?>> unacknowledged = new ArrayList<>();
    private long lastSeq;
    private long firstSeq;
    private Instant first;
    private long bytes;
    private JsonNode started;
    private volatile long touchedAt = System.currentTimeMillis();

    /** Adds the message if it is the next in sequence; returns false for a duplicate. */
    synchronized boolean add(long seq, Instant time, String message, JsonNode event, Message<?> kafkaMessage) {
        touchedAt = System.currentTimeMillis();
        unacknowledged.add(kafkaMessage);
        if (seq <= lastSeq) {
            return false;
        }
        lastSeq = seq;
        if (first == null) {
            first = time;
            firstSeq = seq;
        }
        if ("dev.reprise.build.started.v1".equals(event.path("type").asText())) {
            started = event.path("data");
        }
        frames.add(new Recording.Frame(Math.max(0, time.toEpochMilli() - first.toEpochMilli()), message));
        bytes += message.length();
        return true;
    }

    synchronized Recording complete(String buildId, JsonNode completed) {
        JsonNode s = started == null ? completed.path("missing") : started;
        long duration = frames.isEmpty() ? 0 : frames.get(frames.size() - 1).offsetMs();
        return new Recording(new Recording.Header(Recording.FORMAT, completed.path("cacheKey").asText(), buildId,
                text(s, "tenantId"), text(s, "repository"), text(s, "commitSha"), text(s, "tool"),
                completed.path("status").asText(), duration, frames.size(), bytes), List.copyOf(frames));
    }

    /** True when the build's stream is here from its first message (seq 1). */
    synchronized boolean fromTheStart() {
        return firstSeq == 1;
    }

    /** Milliseconds since its last event. */
    long idleMs(long now) {
        return now - touchedAt;
    }

    synchronized List<Message<?>> unacknowledged() {
        return unacknowledged;
    }

    private static String text(JsonNode node, String field) {
        JsonNode value = node.path(field);
        return value.isMissingNode() || value.isNull() ? null : value.asText();
    }
}
