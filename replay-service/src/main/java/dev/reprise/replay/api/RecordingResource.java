package dev.reprise.replay.api;

import dev.reprise.events.Identifiers;
import dev.reprise.replay.record.RecordedBuilds;
import dev.reprise.replay.record.Recording;
import dev.reprise.replay.store.RecordingIndex;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Map;
import java.util.stream.Collectors;

/** The cache index as an API: is there a recording for this key, and its exact messages. */
@Path("/api/v1/recordings")
public class RecordingResource {

    /** What the index knows about a key; {@code label} is Fresh (< 1 h), Recent (< 24 h) or Cached. */
    public record RecordingView(String cacheKey, String buildId, String status, long bytes, long durationMs,
            OffsetDateTime createdAt, OffsetDateTime expiresAt, long ageSeconds, String label) {
    }

    private final RecordingIndex index;
    private final RecordedBuilds recorded;

    public RecordingResource(RecordingIndex index, RecordedBuilds recorded) {
        this.index = index;
        this.recorded = recorded;
    }

    @GET
    @Path("/{cacheKey}")
    @Produces(MediaType.APPLICATION_JSON)
    public Uni<Response> lookup(@PathParam("cacheKey") String cacheKey, @QueryParam("tenant") String tenant) {
        if (!Identifiers.isCacheKey(cacheKey)) {
            return Uni.createFrom().item(invalidKey());
        }
        // A tenant only ever hits its own recordings.
        return index.byCacheKey(cacheKey).map(entry -> entry.filter(e -> tenant == null || tenant.equals(e.tenantId())).map(e -> {
            long age = Math.max(0, Duration.between(e.createdAt(), OffsetDateTime.now()).toSeconds());
            return Response.ok(new RecordingView(e.cacheKey(), e.buildId(), e.status(), e.bytes(), e.durationMs(),
                    e.createdAt(), e.expiresAt(), age, age < 3600 ? "Fresh" : age < 86_400 ? "Recent" : "Cached")).build();
        }).orElseGet(() -> notFound(cacheKey)));
    }

    /** The recorded messages, one per line, byte for byte as the live clients received them. */
    @GET
    @Path("/{cacheKey}/messages")
    @Produces("application/x-ndjson")
    public Uni<Response> messages(@PathParam("cacheKey") String cacheKey) {
        if (!Identifiers.isCacheKey(cacheKey)) {
            return Uni.createFrom().item(invalidKey());
        }
        return recorded.byCacheKey(cacheKey).map(found -> found
                .map(r -> Response.ok(r.frames().stream().map(Recording.Frame::message)
                        .collect(Collectors.joining("\n", "", "\n"))).build())
                .orElseGet(() -> notFound(cacheKey)));
    }

    private static Response invalidKey() {
        return problem(Response.Status.BAD_REQUEST, "cacheKey: must be 64 lowercase hex characters (a sha256)");
    }

    private static Response notFound(String cacheKey) {
        return problem(Response.Status.NOT_FOUND, "no recording for cache key " + cacheKey);
    }

    private static Response problem(Response.Status status, String detail) {
        return Response.status(status).type("application/problem+json").entity(Map.of(
                "type", "https://reprise.dev/problems/" + (status == Response.Status.NOT_FOUND ? "not-found" : "invalid-request"),
                "title", status.getReasonPhrase(), "status", status.getStatusCode(), "detail", detail)).build();
    }
}
