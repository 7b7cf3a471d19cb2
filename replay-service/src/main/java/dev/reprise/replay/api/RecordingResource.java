package dev.reprise.replay.api;

import dev.reprise.web.Problem;
import dev.reprise.events.StreamTickets;
import dev.reprise.replay.access.InternalApiGuard;
import dev.reprise.replay.access.StreamAccess;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reprise.events.Identifiers;
import dev.reprise.events.RepositoryUrl;
import dev.reprise.replay.policy.CacheRemovals;
import dev.reprise.replay.contract.Invalidated;
import dev.reprise.replay.contract.RecordingView;
import dev.reprise.replay.policy.CacheLookups;
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
import java.util.Optional;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * The cache index as an API (internal: the gateway calls it with the caller's tenant): is there a
 * recording for this key, its exact messages or an asciicast of it, and invalidation.
 */
@Path("/api/v1/recordings")
public class RecordingResource {

    private final CacheLookups lookups;
    private final RecordedBuilds recorded;
    private final CacheRemovals removals;
    private final ObjectMapper json;
    private final StreamAccess access;

    public RecordingResource(CacheLookups lookups, RecordedBuilds recorded, CacheRemovals removals, ObjectMapper json,
            StreamAccess access) {
        this.lookups = lookups;
        this.recorded = recorded;
        this.removals = removals;
        this.json = json;
        this.access = access;
    }

    /**
     * A cache lookup ({@link CacheLookups}): a hit counts as a read of the entry (access count, last access)
     * and in the tenant's statistics, a 404 as a miss. A tenant only ever hits its own recordings.
     */
    @GET
    @Path("/{cacheKey}")
    @Produces(MediaType.APPLICATION_JSON)
    public Uni<Response> lookup(@PathParam("cacheKey") String cacheKey, @QueryParam("tenant") String tenant) {
        if (!Identifiers.isCacheKey(cacheKey)) {
            return Uni.createFrom().item(invalidKey());
        }
        return lookups.lookup(cacheKey, tenant).map(answer -> {
            if (answer instanceof CacheLookups.Hit hit) {
                RecordingIndex.Entry e = hit.entry();
                return Response.ok(new RecordingView(e.cacheKey(), e.buildId(), e.status(), e.bytes(), e.durationMs(),
                        e.createdAt(), e.expiresAt(), hit.ageSeconds(), hit.label(), e.accessCount(), hit.stale())).build();
            }
            return Problem.notFound(((CacheLookups.Miss) answer).detail());
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

    private static Response notFound(String cacheKey) {
        return Problem.notFound("no recording for cache key " + cacheKey);
    }
}
