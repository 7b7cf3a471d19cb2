package dev.reprise.image.api;

import dev.reprise.auth.AuthException;
import dev.reprise.image.deps.InvalidDependencyException;
import dev.reprise.image.service.ImageCache;
import io.vertx.core.json.JsonObject;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** The image API's refusals as problem details (type, title, status, detail); never a stack trace. */
public class ProblemMappers {

    @ServerExceptionMapper
    public Response invalid(InvalidDependencyException e) {
        return problem(Response.Status.BAD_REQUEST, "invalid-request", e.getMessage());
    }

    @ServerExceptionMapper
    public Response forbidden(ImageCache.ForbiddenException e) {
        return problem(Response.Status.FORBIDDEN, "forbidden", e.getMessage());
    }

    @ServerExceptionMapper
    public Response refused(AuthException e) {
        return e.toResponse();
    }

    @ServerExceptionMapper
    public Response notFound(ImageCache.NotFoundException e) {
        return problem(Response.Status.NOT_FOUND, "not-found", e.getMessage());
    }

    @ServerExceptionMapper
    public Response conflict(ImageCache.ConflictException e) {
        return problem(Response.Status.CONFLICT, "conflict", e.getMessage());
    }

    @ServerExceptionMapper
    public Response unavailable(ImageCache.UnavailableException e) {
        return problem(Response.Status.SERVICE_UNAVAILABLE, "unavailable", e.getMessage());
    }

    static Response problem(Response.Status status, String type, String detail) {
        String body = new JsonObject().put("type", "https://reprise.dev/problems/" + type).put("title", status.getReasonPhrase())
                .put("status", status.getStatusCode()).put("detail", detail).encode();
        return Response.status(status).type("application/problem+json").entity(body).build();
    }
}
