package dev.reprise.replay.api;

import dev.reprise.web.Problem;
import dev.reprise.events.StreamTickets;
import dev.reprise.replay.access.InternalApiGuard;
import dev.reprise.replay.access.StreamAccess;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reprise.events.Identifiers;
import dev.reprise.events.RepositoryUrl;
import dev.reprise.replay.policy.CachePolicy;
import dev.reprise.replay.policy.CacheRemovals;
import dev.reprise.replay.policy.CacheStats;
import dev.reprise.replay.record.Asciicast;
import dev.reprise.replay.record.RecordedBuilds;
import dev.reprise.replay.record.Recording;
import dev.reprise.replay.store.RecordingIndex;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The cache index as an API (internal: the gateway calls it with the caller's tenant): is there a
 * recording for this key, its exact messages or an asciicast of it, and invalidation.
 */
@Path("/api/v1/recordings")
public class RecordingResource {

    /**
     * A hit: what the index knows about the key. {@code label} is Fresh (< 1 h), Recent (< 24 h)
     * or Cached; {@code stale} asks the caller to refresh this popular, old entry in the background.
     */
    public record RecordingView(String cacheKey, String buildId, String status, long bytes, long durationMs,
            OffsetDateTime createdAt, OffsetDateTime expiresAt, long ageSeconds, String label, long reads, boolean stale) {
    }

    /** What an invalidation took out. */
    public record Invalidated(String scope, String value, int removed) {
    }

    private final RecordingIndex index;
    private final RecordedBuilds recorded;
    private final CacheStats stats;
    private final CacheRemovals removals;
    private final CachePolicy policy;
    private final ObjectMapper json;
    private final StreamAccess access;

    public RecordingResource(RecordingIndex index, RecordedBuilds recorded, CacheStats stats, CacheRemovals removals,
            CachePolicy policy, ObjectMapper json, StreamAccess access) {
        this.access = access;
        this.index = index;
        this.recorded = recorded;
        this.stats = stats;
        this.removals = removals;
        this.policy = policy;
        this.json = json;
    }

    /**
     * A cache lookup: a hit counts as a read of the entry (access count, last access) and in the
     * tenant's statistics, a 404 as a miss. A tenant only ever hits its own recordings.
     */
    @GET
    @Path("/{cacheKey}")
    @Produces(MediaType.APPLICATION_JSON)
    public Uni<Response> lookup(@PathParam("cacheKey") String cacheKey, @QueryParam("tenant") String tenant) {
        if (!Identifiers.isCacheKey(cacheKey)) {
            return Uni.createFrom().item(invalidKey());
        }
        if (!policy.mode().serves()) {
            return notServed(cacheKey, tenant);
        }
        return index.hit(cacheKey, tenant).map(found -> {
            if (found.isEmpty()) {
                stats.miss(tenant);
                return notFound(cacheKey);
            }
            RecordingIndex.Entry e = found.get();
            long age = Math.max(0, Duration.between(e.createdAt(), OffsetDateTime.now()).toSeconds());
            boolean stale = age > policy.refreshAfter().toSeconds() && e.accessCount() >= policy.refreshMinReads();
            stats.hit(e.tenantId(), e.durationMs(), stale);
            return Response.ok(new RecordingView(e.cacheKey(), e.buildId(), e.status(), e.bytes(), e.durationMs(),
                    e.createdAt(), e.expiresAt(), age, age < 3600 ? "Fresh" : age < 86_400 ? "Recent" : "Cached",
                    e.accessCount(), stale)).build();
        });
    }

    /** The recorded messages, one per line, byte for byte as the live clients received them. */
    @GET
    @Path("/{cacheKey}/messages")
    @Produces("application/x-ndjson")
    public Uni<Response> messages(@PathParam("cacheKey") String cacheKey, @QueryParam("tenant") String tenant,
            @QueryParam("ticket") String ticket, @HeaderParam(StreamTickets.SERVICE_HEADER) String service) {
        return recording(cacheKey, tenant, ticket, service, r -> Response.ok(r.frames().stream().map(Recording.Frame::message)
                .collect(Collectors.joining("\n", "", "\n"))).build());
    }

    /** The recording as an asciicast v2 file: {@code asciinema play} or {@code asciinema cat} it. */
    @GET
    @Path("/{cacheKey}/recording.cast")
    @Produces(Asciicast.MEDIA_TYPE)
    public Uni<Response> cast(@PathParam("cacheKey") String cacheKey, @QueryParam("tenant") String tenant,
            @QueryParam("ticket") String ticket, @HeaderParam(StreamTickets.SERVICE_HEADER) String service) {
        return recording(cacheKey, tenant, ticket, service, r -> Response.ok(Asciicast.file(r, json))
                .header("Content-Disposition", "attachment; filename=\"" + cacheKey + ".cast\"").build());
    }

    /** Takes one key out of the cache (its next request builds live). */
    @DELETE
    @Path("/{cacheKey}")
    @Produces(MediaType.APPLICATION_JSON)
    public Uni<Response> invalidateKey(@PathParam("cacheKey") String cacheKey, @QueryParam("tenant") String tenant,
            @QueryParam("reason") String reason) {
        if (!Identifiers.isCacheKey(cacheKey)) {
            return Uni.createFrom().item(invalidKey());
        }
        return removals.invalidateKey(tenant, cacheKey, reasonOrDefault(reason)).map(n -> n == 0
                ? notFound(cacheKey)
                : Response.ok(new Invalidated("key", cacheKey, n)).build());
    }

    /** Takes every recording of a repository out of the cache. */
    @DELETE
    @Produces(MediaType.APPLICATION_JSON)
    public Uni<Response> invalidateRepository(@QueryParam("repository") String repository,
            @QueryParam("tenant") String tenant, @QueryParam("reason") String reason) {
        String normalized;
        try {
            normalized = RepositoryUrl.parse(repository).normalized();
        } catch (IllegalArgumentException e) {
            return Uni.createFrom().item(Problem.badRequest("repository: " + e.getMessage()));
        }
        return removals.invalidateRepository(tenant, normalized, reasonOrDefault(reason))
                .map(n -> Response.ok(new Invalidated("repository", normalized, n)).build());
    }

    /**
     * The key's recording when the caller may read it: with a ticket, only the ticket's tenant's
     * (anyone else's is a 404, as if absent); with the service token, the tenant asked for, or any.
     */
    private Uni<Response> recording(String cacheKey, String tenant, String ticket, String service,
            Function<Recording, Response> answer) {
        if (!Identifiers.isCacheKey(cacheKey)) {
            return Uni.createFrom().item(invalidKey());
        }
        String reader;
        // Without the service token, only a valid ticket (an empty or absent one is not) lets a reader in.
        if (ticket != null || !access.isService(service)) {
            Optional<String> allowed = access.tenantFor(ticket, StreamTickets.key(cacheKey));
            if (allowed.isEmpty()) {
                return Uni.createFrom().item(InternalApiGuard.unauthorized("the ticket is not valid for this key: " + StreamAccess.HOW));
            }
            reader = allowed.get();
        } else {
            reader = tenant;
        }
        return recorded.byCacheKey(cacheKey).map(found -> found
                .filter(r -> reader == null || reader.equals(r.header().tenantId()))
                .map(answer)
                .orElseGet(() -> notFound(cacheKey)));
    }

    private static String reasonOrDefault(String reason) {
        return Optional.ofNullable(reason).filter(r -> !r.isBlank())
                .map(r -> r.length() > 200 ? r.substring(0, 200) : r).orElse("invalidated by request");
    }

    private static Response invalidKey() {
        return Problem.badRequest("cacheKey: must be 64 lowercase hex characters (a sha256)");
    }

    /**
     * Record-only and off: a miss, whatever the index holds. Record-only counts a lookup that would have hit
     * (without reading it: its popularity stays as it was), so an operator sees the hit rate to expect.
     */
    private Uni<Response> notServed(String cacheKey, String tenant) {
        stats.miss(tenant);
        String detail = "replay mode is " + policy.mode() + ": no build is answered from cache (REPRISE_REPLAY_MODE)";
        if (!policy.mode().records()) {
            return Uni.createFrom().item(Problem.notFound(detail));
        }
        return index.byCacheKey(cacheKey).map(found -> {
            if (found.filter(e -> tenant == null || tenant.equals(e.tenantId())).isPresent()) {
                stats.shadowHit();
            }
            return Problem.notFound(detail);
        });
    }

    private static Response notFound(String cacheKey) {
        return Problem.notFound("no recording for cache key " + cacheKey);
    }
}
