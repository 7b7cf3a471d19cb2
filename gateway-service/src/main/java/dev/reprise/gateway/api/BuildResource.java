package dev.reprise.gateway.api;

import dev.reprise.gateway.service.BuildRequestParser;
import dev.reprise.gateway.service.BuildService;
import dev.reprise.gateway.service.InvalidRequestException;
import dev.reprise.gateway.service.TokenAuthenticator;
import dev.reprise.events.Identifiers;
import dev.reprise.web.Problem;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/** Builds: request one (answered from cache or queued), follow it, list them, cancel one. */
@Path("/api/v1/builds")
@Produces(MediaType.APPLICATION_JSON)
public class BuildResource {

    private static final Set<String> STATUSES = Set.of("QUEUED", "RUNNING", "SUCCESS", "FAILURE", "TIMEOUT", "CANCELLED", "INTERRUPTED");
    private static final int MAX_PAGE_SIZE = 200;
    private static final long MAX_OFFSET = 1_000_000;

    private final TokenAuthenticator auth;
    private final BuildRequestParser parser;
    private final BuildService builds;
    private final dev.reprise.gateway.service.KeyExplainer keys;

    public BuildResource(TokenAuthenticator auth, BuildRequestParser parser, BuildService builds,
            dev.reprise.gateway.service.KeyExplainer keys) {
        this.auth = auth;
        this.parser = parser;
        this.builds = builds;
        this.keys = keys;
    }

    /** 202 with the build (new, or the identical one already running, marked coalesced). */
    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<Response> submit(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization, byte[] body) {
        return auth.authenticateWriter(authorization)
                .flatMap(grant -> builds.submit(grant.tenantId(), parser.parse(body)))
                .map(build -> Response.accepted(build).header(HttpHeaders.LOCATION, "/api/v1/builds/" + build.buildId()).build());
    }

    @GET
    @Path("/{id}")
    public Uni<Response> get(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization, @PathParam("id") String id) {
        return auth.authenticate(authorization)
                .flatMap(grant -> Identifiers.isBuildId(id) ? builds.find(grant.tenantId(), id) : Uni.createFrom().item(Optional.empty()))
                .map(found -> found.map(b -> Response.ok(b).build()).orElseGet(() -> notFound(id)));
    }

    /**
     * Why the build hit or missed: its key's inputs, and which of them differ from the tenant's previous
     * build of the repository (the nearest entry), with the reason in words.
     */
    @GET
    @Path("/{id}/key")
    public Uni<Response> key(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization, @PathParam("id") String id) {
        return auth.authenticate(authorization)
                .flatMap(grant -> Identifiers.isBuildId(id) ? keys.explain(grant.tenantId(), id) : Uni.createFrom().item(Optional.empty()))
                .map(found -> found.map(e -> Response.ok(e).build()).orElseGet(() -> notFound(id)));
    }

    @GET
    public Uni<List<BuildView>> list(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
            @QueryParam("repository") String repository, @QueryParam("status") String status,
            @QueryParam("page") Integer page, @QueryParam("size") Integer size) {
        int p = page == null ? 0 : page;
        int s = size == null ? 50 : size;
        if (p < 0) {
            throw new InvalidRequestException("page", "must be 0 or more");
        }
        if ((long) p * MAX_PAGE_SIZE > MAX_OFFSET) {
            throw new InvalidRequestException("page", "must be at most " + MAX_OFFSET / MAX_PAGE_SIZE
                    + "; narrow the list with repository= or status= instead");
        }
        if (s < 1 || s > MAX_PAGE_SIZE) {
            throw new InvalidRequestException("size", "must be between 1 and " + MAX_PAGE_SIZE);
        }
        if (status != null && !STATUSES.contains(status)) {
            throw new InvalidRequestException("status", "must be one of " + String.join(", ", STATUSES.stream().sorted().toList()));
        }
        return auth.authenticate(authorization).flatMap(grant -> builds.list(grant.tenantId(),
                repository == null || repository.isBlank() ? null : normalized(repository), status, p, s));
    }

    /** 202: the runners were asked to stop it; 409 when it already finished. */
    @POST
    @Path("/{id}/cancel")
    public Uni<Response> cancel(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization, @PathParam("id") String id) {
        return auth.authenticateWriter(authorization)
                .flatMap(grant -> Identifiers.isBuildId(id)
                        ? builds.cancel(grant.tenantId(), id, "cancelled by " + grant.tokenName())
                        : Uni.createFrom().item(Optional.<BuildView>empty()))
                .map(found -> found.map(b -> Response.accepted(b).build()).orElseGet(() -> notFound(id)));
    }

    private static String normalized(String repository) {
        return InvalidRequestException.repository(repository).normalized();
    }

    private static Response notFound(String id) {
        return Problem.notFound(Identifiers.isBuildId(id)
                ? "no build " + id + " for this tenant"
                : "no such build: build ids are UUIDs, as POST /api/v1/builds returns them");
    }
}
