package dev.reprise.artifact.api;

import dev.reprise.artifact.http.ArtifactException;
import dev.reprise.auth.AuthException;
import io.vertx.core.json.JsonObject;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;

/** The admin API's refusals as problem details, the same shape the protocol routes answer. */
public class ProblemMappers {

    @ServerExceptionMapper
    public Response refused(ArtifactException e) {
        String body = new JsonObject().put("type", "https://reprise.dev/problems/" + e.type())
                .put("title", Response.Status.fromStatusCode(e.status()) == null ? "Error" : Response.Status.fromStatusCode(e.status()).getReasonPhrase())
                .put("status", e.status()).put("detail", e.getMessage()).encode();
        Response.ResponseBuilder response = Response.status(e.status()).type("application/problem+json").entity(body);
        if (e.status() == 401) {
            response.header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"reprise\"");
        }
        return response.build();
    }

    @ServerExceptionMapper
    public Response refused(AuthException e) {
        return refused(new ArtifactException(e.status(), e.type(), e.getMessage()));
    }
}
