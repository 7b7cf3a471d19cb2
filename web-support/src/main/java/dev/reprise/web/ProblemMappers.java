package dev.reprise.web;

import jakarta.ws.rs.WebApplicationException;
import jakarta.ws.rs.core.Response;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.ResteasyReactiveClientProblem;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/**
 * Every service's REST failures as problem details, never a stack trace: a {@link ProblemException}
 * as it says; a store that cannot be reached ({@link StoreFailures}) as 503 with Retry-After; anything
 * else as a logged 500. Framework answers (404 for an unknown path, 405, 415, JSON the body mapper
 * refused) keep their own, more specific mappers.
 */
public class ProblemMappers {

    private static final Logger LOG = Logger.getLogger(ProblemMappers.class);

    @ServerExceptionMapper
    public Response refused(ProblemException e) {
        return e.toResponse();
    }

    @ServerExceptionMapper
    public Response failed(Exception e) {
        if (e instanceof WebApplicationException w && !(e instanceof ResteasyReactiveClientProblem)) {
            return w.getResponse(); // the framework's own answer (no more specific mapper); a REST client's is never passed on
        }
        if (StoreFailures.unreachable(e)) {
            LOG.warnf("A store is unreachable (%s); answered 503", e.toString());
            return Problem.storeUnavailable("a store this service needs (PostgreSQL, Redis or S3) cannot be reached just now;"
                    + " retry shortly");
        }
        LOG.error("A request failed", e);
        return Problem.of(500, "internal", "the request failed on the server; it has been logged").response();
    }
}
