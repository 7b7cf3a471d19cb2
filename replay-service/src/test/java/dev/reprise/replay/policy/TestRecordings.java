package dev.reprise.replay.policy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reprise.events.RepositoryUrl;
import dev.reprise.replay.record.Recording;
import dev.reprise.replay.store.RecordingIndex;
import dev.reprise.replay.store.RecordingObjects;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;

/** Recordings made the way the recorder makes them: object in S3, then the index row. */
final class TestRecordings {

    private static final Duration WAIT = Duration.ofSeconds(30);

    private TestRecordings() {
    }

    /** Stores a two-step build's recording under {@code key} (replacing the key's recording, if any). */
    static void store(RecordingIndex index, RecordingObjects objects, ObjectMapper json, String key, String buildId,
            String tenant, String repository, long durationMs) {
        List<Recording.Frame> frames = List.of(
                frame(0, "dev.reprise.build.started.v1", buildId, "{\"buildId\":\"" + buildId + "\"}"),
                frame(0, "dev.reprise.build.step-started.v1", buildId, "{\"step\":1,\"name\":\"checkout\"}"),
                frame(5, "dev.reprise.build.step-finished.v1", buildId, "{\"step\":1,\"name\":\"checkout\",\"exitCode\":0}"),
                frame(6, "dev.reprise.build.step-started.v1", buildId, "{\"step\":2,\"name\":\"build\"}"),
                frame(8, "dev.reprise.build.output.v1", buildId, "{\"stream\":\"STDOUT\",\"chunk\":\"compiling\\n\"}"),
                frame(durationMs, "dev.reprise.build.completed.v1", buildId,
                        "{\"status\":\"SUCCESS\",\"exitCode\":0,\"durationMs\":" + durationMs + "}"));
        Recording recording = new Recording(new Recording.Header(Recording.FORMAT, key, buildId, tenant, repository,
                "c".repeat(40), "make", "SUCCESS", durationMs, frames.size(), 0), frames);
        byte[] gzip = recording.toGzip(json);
        String objectKey = RecordingObjects.keyFor(key, buildId);
        objects.put(objectKey, gzip).await().atMost(WAIT);
        index.upsert(recording.header(), RepositoryUrl.parse(repository).normalized(), objectKey, gzip.length,
                OffsetDateTime.now(ZoneOffset.UTC).plusDays(30)).await().atMost(WAIT);
    }

    private static Recording.Frame frame(long t, String type, String buildId, String data) {
        return new Recording.Frame(t, "{\"type\":\"" + type + "\",\"subject\":\"" + buildId + "\",\"data\":" + data + "}");
    }
}
