package dev.reprise.artifact.http;

import dev.reprise.artifact.store.ArtifactIndex.Provenance;
import dev.reprise.events.RepositoryUrl;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;

/** The optional provenance headers ({@code X-Reprise-*}) a client may send with a save, read and checked. */
public final class ProvenanceHeaders {

    private ProvenanceHeaders() {
    }

    /** The optional provenance headers a client may send with a save ({@code X-Reprise-*}). */
    public static Provenance read(HttpServerRequest request) {
        String durationText = request.getHeader("X-Reprise-Duration-Ms");
        Long duration = null;
        if (durationText != null) {
            try {
                duration = Long.parseLong(durationText.strip());
            } catch (NumberFormatException e) {
                throw ArtifactException.badRequest("X-Reprise-Duration-Ms must be a whole number of milliseconds");
            }
        }
        String repository = request.getHeader("X-Reprise-Repository");
        String lockfileHash = header(request, "X-Reprise-Lockfile-Hash");
        if (lockfileHash != null && !lockfileHash.matches("[0-9a-f]{64}")) {
            throw ArtifactException.badRequest("X-Reprise-Lockfile-Hash must be a sha256 in lowercase hex (64 characters)");
        }
        String message = header(request, "X-Reprise-Commit-Message");
        if (message != null) {
            try {
                message = java.net.URLDecoder.decode(message, java.nio.charset.StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw ArtifactException.badRequest("X-Reprise-Commit-Message must be percent-encoded UTF-8 (" + e.getMessage() + ")");
            }
        }
        return new Provenance(repository == null ? null : normalizedRepository(repository), header(request, "X-Reprise-Commit"),
                message, header(request, "X-Reprise-Branch"), toolchainHeader(request), header(request, "X-Reprise-Build-Id"), duration,
                jsonHeader(request, "X-Reprise-Dependency-Digests"), lockfileHash);
    }

    /** X-Reprise-Toolchain: a JSON object of tool name to version string, e.g. {"java":"17.0.15","mvn":"3.8.7"}. */
    private static JsonObject toolchainHeader(HttpServerRequest request) {
        JsonObject toolchain = jsonHeader(request, "X-Reprise-Toolchain");
        if (toolchain != null) {
            for (String tool : toolchain.fieldNames()) {
                if (!(toolchain.getValue(tool) instanceof String)) {
                    throw ArtifactException.badRequest("X-Reprise-Toolchain: the version of '" + tool + "' must be a string");
                }
            }
        }
        return toolchain;
    }

    /** A repository URL as the index keeps it (any spelling of one repository is one value). */
    public static String normalizedRepository(String url) {
        try {
            return RepositoryUrl.parse(url).normalized();
        } catch (IllegalArgumentException e) {
            throw ArtifactException.badRequest("repository: " + e.getMessage());
        }
    }

    private static String header(HttpServerRequest request, String name) {
        String value = request.getHeader(name);
        if (value == null) {
            return null;
        }
        if (value.length() > 512) {
            throw ArtifactException.badRequest(name + " is longer than 512 characters");
        }
        return value.strip();
    }

    private static JsonObject jsonHeader(HttpServerRequest request, String name) {
        String value = request.getHeader(name);
        if (value == null) {
            return null;
        }
        if (value.length() > 4096) {
            throw ArtifactException.badRequest(name + " is longer than 4096 characters");
        }
        try {
            return new JsonObject(value);
        } catch (DecodeException | ClassCastException e) {
            throw ArtifactException.badRequest(name + " must be a JSON object, e.g. {\"java\":\"17.0.15\"}");
        }
    }
}
