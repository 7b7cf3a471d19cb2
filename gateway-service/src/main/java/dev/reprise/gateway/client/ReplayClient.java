package dev.reprise.gateway.client;

import dev.reprise.gateway.config.BuildsConfig;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.WebApplicationException;
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

    private final ReplayApi api;
    private final Duration timeout;

    ReplayClient(@RestClient ReplayApi api, BuildsConfig config) {
        this.api = api;
        this.timeout = config.lookupTimeout();
    }

    public Uni<Optional<RecordingInfo>> lookup(String tenantId, String cacheKey) {
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
