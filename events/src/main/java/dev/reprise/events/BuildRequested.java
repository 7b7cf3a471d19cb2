package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonTypeName;
import java.time.Instant;
import java.util.Map;

/**
 * A build to run: the ref is already resolved to {@code commitSha}; {@code env} holds only the
 * variables the caller set (validated names). {@code command} is null for a tool's preset;
 * {@code timeoutSeconds} is null for the runner's default (the runner caps it at its maximum).
 */
@JsonTypeName("dev.reprise.build.requested.v1")
public record BuildRequested(String buildId, String tenantId, String cacheKey, String repository, String ref, String commitSha, String tool, String command, Map<String, String> env, boolean fresh, Instant requestedAt, Integer timeoutSeconds) implements BuildRequestEvent {
}
