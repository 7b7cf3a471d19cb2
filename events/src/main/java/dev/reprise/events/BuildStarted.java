package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonTypeName;
import java.time.Instant;

/**
 * A runner took the build. {@code tenantId}, {@code repository}, {@code commitSha} and {@code tool}
 * repeat the request so a consumer of build events alone (the recorder) can index the build.
 */
@JsonTypeName("dev.reprise.build.started.v1")
public record BuildStarted(String buildId, String cacheKey, String runnerId, Instant startedAt, String tenantId,
        String repository, String commitSha, String tool) implements BuildEvent {
}
