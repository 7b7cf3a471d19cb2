package dev.reprise.replay.access;

import dev.reprise.web.Problem;
import dev.reprise.events.StreamTickets;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.Response;
import java.util.Optional;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * replay-service's REST API is the gateway's: lookups, invalidations and statistics name a tenant
 * themselves, so only a caller with the service token may make them. A recording's messages and
 * asciicast may also be fetched with the stream ticket of that key (the resource checks it).
 */
public class InternalApiGuard {

    private final StreamAccess access;

    public InternalApiGuard(StreamAccess access) {
        this.access = access;
    }

    @ServerRequestFilter
    public Optional<Response> guard(ContainerRequestContext request) {
        String path = "/" + request.getUriInfo().getPath().replaceFirst("^/+", "");
        if (!path.startsWith("/api/v1/recordings") && !path.startsWith("/api/v1/stats")) {
            return Optional.empty();
        }
        String tenant = request.getUriInfo().getQueryParameters().getFirst("tenant");
        if (tenant != null && !StreamTickets.isTenantId(tenant)) {
            return Optional.of(Problem.badRequest("tenant: must be 1 to 64 letters, digits, '.', '_' or '-'"));
        }
        if (access.isService(request.getHeaderString(StreamTickets.SERVICE_HEADER))) {
            return Optional.empty();
        }
        boolean ticketed = "GET".equals(request.getMethod())
                && (path.endsWith("/messages") || path.endsWith("/recording.cast"))
                && request.getUriInfo().getQueryParameters().containsKey(StreamTickets.QUERY_PARAMETER);
        if (ticketed) {
            return Optional.empty();
        }
        return Optional.of(unauthorized("this is the gateway's internal API (it needs the " + StreamTickets.SERVICE_HEADER
                + " header); ask the gateway instead, or fetch a recording's /messages or /recording.cast with ?ticket= from its streamUrl"));
    }

    public static Response unauthorized(String detail) {
        return Problem.of(401, "unauthorized", detail).response();
    }
}
