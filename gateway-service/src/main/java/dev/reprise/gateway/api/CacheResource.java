package dev.reprise.gateway.api;

import dev.reprise.events.Identifiers;
import dev.reprise.gateway.client.ReplayClient;
import dev.reprise.gateway.service.InvalidRequestException;
import dev.reprise.gateway.service.TokenAuthenticator;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/**
 * The build cache, for its tenant: invalidate a key or a whole repository (a read-write token),
 * and what the cache did and saved (any token). Always scoped to the token's tenant.
 */
@Path("/api/v1")
@Produces(MediaType.APPLICATION_JSON)
public class CacheResource {

    static final int MAX_HOURS = 24 * 90;

    private final TokenAuthenticator auth;
    private final ReplayClient replay;

    public CacheResource(TokenAuthenticator auth, ReplayClient replay) {
        this.auth = auth;
        this.replay = replay;
    }

    /** {@code DELETE /api/v1/cache/{cacheKey}}: the key's next request builds live. */
    @DELETE
    @Path("/cache/{cacheKey}")
    public Uni<Response> invalidateKey(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
            @PathParam("cacheKey") String cacheKey) {
        return auth.authenticateWriter(authorization).flatMap(grant -> {
            if (!Identifiers.isCacheKey(cacheKey)) {
                throw new InvalidRequestException("cacheKey", "must be 64 lowercase hex characters (a build's cacheKey)");
            }
            return replay.invalidateKey(grant.tenantId(), cacheKey, "invalidated by " + grant.tokenName());
        });
    }

    /** {@code DELETE /api/v1/cache?repository=URL}: every recording of the repository, any spelling of its URL. */
    @DELETE
    @Path("/cache")
    public Uni<Response> invalidateRepository(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
            @QueryParam("repository") String repository) {
        return auth.authenticateWriter(authorization).flatMap(grant -> replay.invalidateRepository(grant.tenantId(),
                InvalidRequestException.repository(repository).normalized(), "invalidated by " + grant.tokenName()));
    }

    /**
     * {@code DELETE /api/v1/admin/cache}: every tenant's recordings out, for an operator (AdminApiGuard):
     * after a runner image or tool upgrade that the keys' versions do not capture.
     */
    @DELETE
    @Path("/admin/cache")
    public Uni<Response> purgeAll(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization) {
        return auth.authenticateOperator(authorization, "DELETE /api/v1/admin/cache")
                .flatMap(grant -> replay.purgeAll("purged by operator token " + grant.tokenName()));
    }

    /** {@code GET /api/v1/stats?hours=24}: hit rate, savings, storage and an hourly series. */
    @GET
    @Path("/stats")
    public Uni<Response> stats(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization, @QueryParam("hours") Integer hours) {
        return auth.authenticate(authorization).flatMap(grant -> {
            if (hours != null && (hours < 1 || hours > MAX_HOURS)) {
                throw new InvalidRequestException("hours", "must be between 1 and " + MAX_HOURS);
            }
            return replay.stats(grant.tenantId(), hours);
        });
    }
}
