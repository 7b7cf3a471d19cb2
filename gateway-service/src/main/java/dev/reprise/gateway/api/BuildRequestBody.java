package dev.reprise.gateway.api;

import java.util.Map;

/**
 * {@code POST /api/v1/builds}.
 *
 * @param repository https://, ssh:// or file:// URL, no credentials
 * @param ref branch, tag, HEAD or a full commit SHA (default HEAD)
 * @param tool maven, gradle, npm, make or custom
 * @param command the command to run; required for custom, replaces the preset otherwise
 * @param env variables for the build (names [A-Z_][A-Z0-9_]*), part of the cache key
 * @param fresh run even if a cached result exists
 * @param timeoutSeconds wall-clock limit (the runner caps it)
 */
public record BuildRequestBody(String repository, String ref, String tool, String command, Map<String, String> env,
        Boolean fresh, Integer timeoutSeconds) {
}
