package dev.reprise.replay.access;

import dev.reprise.auth.TrustedCaller;
import dev.reprise.events.StreamTickets;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.container.ContainerRequestContext;

/**
 * The gateway, by its service token, may read this instance's operator endpoints (the cache
 * report) as it may the rest of the internal API; anyone else needs an operator token (auth-support's
 * OperatorGuard).
 */
@ApplicationScoped
public class GatewayCaller implements TrustedCaller {

    private final StreamAccess access;

    public GatewayCaller(StreamAccess access) {
        this.access = access;
    }

    @Override
    public boolean trusted(ContainerRequestContext request) {
        return access.isService(request.getHeaderString(StreamTickets.SERVICE_HEADER));
    }
}
