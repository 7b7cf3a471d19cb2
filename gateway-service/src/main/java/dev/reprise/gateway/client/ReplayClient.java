package dev.reprise.gateway.client;

import dev.reprise.replay.contract.RecordingView;
import dev.reprise.web.Problem;
import dev.reprise.gateway.config.BuildsConfig;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.time.Duration;
import java.util.Optional;
import org.eclipse.microprofile.rest.client.inject.RestClient;
import org.jboss.logging.Logger;

/**
 * Asks replay-service whether a build is cached. A miss is 404; a slow or failing replay service
 * also counts as a miss (the build runs live), so the cache can only ever save work, never block it.
 */
@ApplicationScoped
public class ReplayClient {

    private static final Logger LOG = Logger.getLogger(ReplayClient.class);

    private static final Duration ADMIN_TIMEOUT = Duration.ofSeconds(30);

    private final ReplayApi api;
    private final Duration timeout;

    ReplayClient(@RestClient ReplayApi api, BuildsConfig config) {
        this.api = api;
        this.timeout = config.lookupTimeout();
    }

    /** Takes a tenant's key out of the cache: replay-service's answer (200, 404), or 503. */
    public Uni<Response> invalidateKey(String tenantId, String cacheKey, String reason) {
        return relay(api.invalidateKey(cacheKey, tenantId, reason));
    }

    /** Takes a tenant's repository (normalized URL) out of the cache. */
    public Uni<Response> invalidateRepository(String tenantId, String repository, String reason) {
        return relay(api.invalidateRepository(repository, tenantId, reason));
    }

    /** Every tenant's recordings out (operator). */
    public Uni<Response> purgeAll(String reason) {
        return relay(api.purgeAll(reason));
    }

    /** The tenant's cache statistics over the last {@code hours}. */
    public Uni<Response> stats(String tenantId, Integer hours) {
        return relay(api.stats(tenantId, hours));
    }

    /** replay-service's JSON answer as the gateway's: its 2xx, 400 and 404 pass through; anything else is 503. */
    private Uni<Response> relay(Uni<String> call) {
        return call.ifNoItem().after(ADMIN_TIMEOUT).fail()
                .map(body -> Response.ok(body, MediaType.APPLICATION_JSON).build())
                .onFailure().recoverWithItem(e -> {
                    if (e instanceof WebApplicationException w && (w.getResponse().getStatus() == 400 || w.getResponse().getStatus() == 404)) {
                        return Response.status(w.getResponse().getStatus()).type(Problem.MEDIA_TYPE)
                                .entity(w.getResponse().readEntity(String.class)).build();
                    }
                    LOG.warnf("replay-service did not answer an admin call (%s)", e.toString());
                    return Problem.of(503, "cache-unavailable", "the cache service did not answer; try again shortly").response();
                });
    }

    public Uni<Optional<RecordingView>> lookup(String tenantId, String cacheKey) {
        return api.lookup(cacheKey, tenantId)
                .ifNoItem().after(timeout).fail()
                .map(Optional::of)
                .onFailure().recoverWithItem(e -> {
                    if (!(e instanceof WebApplicationException w && w.getResponse().getStatus() == 404)) {
                        LOG.warnf("Cache lookup of %s failed (%s); building live", cacheKey, e.toString());
                    }
                    return Optional.empty();
                });
    }
}
