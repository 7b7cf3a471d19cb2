package dev.reprise.gateway.api;

import dev.reprise.gateway.service.BuildService.BuildFinishedException;
import dev.reprise.gateway.service.BuildService.QueueUnavailableException;
import dev.reprise.gateway.service.InvalidRequestException;
import dev.reprise.gateway.service.ResolutionSlots.BusyException;
import dev.reprise.gateway.service.TokenAuthenticator.ForbiddenException;
import dev.reprise.gateway.service.TokenAuthenticator.UnauthorizedException;
import io.smallrye.mutiny.TimeoutException;
import io.vertx.sqlclient.ClosedConnectionException;
import jakarta.ws.rs.core.HttpHeaders;
import java.net.ConnectException;
import org.jboss.logging.Logger;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** Maps the gateway's exceptions to problem-details responses; never a stack trace. */
public class ProblemMappers {

    private static final Logger LOG = Logger.getLogger(ProblemMappers.class);

    @ServerExceptionMapper
    public Response invalid(InvalidRequestException e) {
        return Problem.response(Response.Status.BAD_REQUEST, "invalid-request", e.getMessage(), e.field());
    }

    @ServerExceptionMapper
    public Response forbidden(ForbiddenException e) {
        return Problem.response(Response.Status.FORBIDDEN, "forbidden", e.getMessage());
    }

    @ServerExceptionMapper
    public Response finished(BuildFinishedException e) {
        return Problem.response(Response.Status.CONFLICT, "build-finished", e.getMessage());
    }

    @ServerExceptionMapper
    public Response queueDown(QueueUnavailableException e) {
        return Problem.response(Response.Status.SERVICE_UNAVAILABLE, "queue-unavailable", e.getMessage());
    }

    /** Too many ref resolutions running for the tenant or the gateway: 429 and when a slot is free at the latest. */
    @ServerExceptionMapper
    public Response busy(BusyException e) {
        Response problem = Problem.response(Response.Status.TOO_MANY_REQUESTS, "too-many-ref-resolutions", e.getMessage());
        return Response.fromResponse(problem).header(HttpHeaders.RETRY_AFTER, e.retryAfterSeconds()).build();
    }

    /** PostgreSQL restarting, a connection refused or timed out: 503 and when to retry, never a 500. */
    @ServerExceptionMapper({ConnectException.class, ClosedConnectionException.class, TimeoutException.class})
    public Response storeUnreachable(Exception e) {
        LOG.warnf("A store is unreachable (%s); answered 503", e.toString());
        Response problem = Problem.response(Response.Status.SERVICE_UNAVAILABLE, "store-unavailable",
                "a store the gateway needs (PostgreSQL) cannot be reached just now; retry shortly");
        return Response.fromResponse(problem).header(HttpHeaders.RETRY_AFTER, "5").build();
    }

    @ServerExceptionMapper
    public Response unauthorized(UnauthorizedException e) {
        Response problem = Problem.response(Response.Status.UNAUTHORIZED, "unauthorized", e.getMessage());
        return Response.fromResponse(problem).header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"reprise\"").build();
    }
}
