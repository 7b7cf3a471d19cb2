package dev.reprise.gateway.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import java.time.OffsetDateTime;

/**
 * A build as the API shows it; the repository is always the credential-free normalized URL. A
 * cache hit has {@code cached: true}, the recording's age and a label (Fresh, Recent, Cached), and
 * a {@code streamUrl} that replays the recording ({@code ?speed=2}, {@code ?speed=0} for instant).
 * A {@code stale} hit (an old recording many read) is served at once while the live build
 * {@code refreshBuildId} records a new one in the background.
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record BuildView(String buildId, String cacheKey, String repository, String ref, String commit, String tool,
        String command, String status, boolean cached, Boolean coalesced, String streamUrl, OffsetDateTime requestedAt,
        OffsetDateTime startedAt, OffsetDateTime finishedAt, Long durationMs, Integer exitCode, String reason,
        Long ageSeconds, String label, Boolean stale, String refreshBuildId) {
}
