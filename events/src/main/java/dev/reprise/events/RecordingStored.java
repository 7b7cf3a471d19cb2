package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonTypeName;
import java.time.Instant;

/** A build's recording is durable in S3 and indexed. */
@JsonTypeName("dev.reprise.cache.recording-stored.v1")
public record RecordingStored(String cacheKey, String buildId, String repository, String commitSha, String tool, BuildStatus status, String objectKey, long bytes, long durationMs, Instant expiresAt) implements CacheEvent {
}
