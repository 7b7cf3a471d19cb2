package dev.reprise.gateway.client;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.time.OffsetDateTime;

/** A cache hit as replay-service describes it. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record RecordingInfo(String cacheKey, String buildId, String status, long bytes, long durationMs,
        OffsetDateTime createdAt, long ageSeconds, String label, long reads, boolean stale) {
}
