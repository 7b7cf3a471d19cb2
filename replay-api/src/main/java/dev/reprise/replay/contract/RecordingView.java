package dev.reprise.replay.contract;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.time.OffsetDateTime;

/**
 * A cache hit, as {@code GET /api/v1/recordings/{cacheKey}?tenant=} answers it (a miss is a 404 problem):
 * the newest recording of the key, its age, {@code label} Fresh (< 1 h), Recent (< 24 h) or Cached, its reads,
 * and {@code stale} when the caller should refresh this popular, old entry in the background. Readers ignore
 * members they do not know, so replay-service can add one before every gateway knows it.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record RecordingView(String cacheKey, String buildId, String status, long bytes, long durationMs,
        OffsetDateTime createdAt, OffsetDateTime expiresAt, long ageSeconds, String label, long reads, boolean stale) {
}
