package dev.reprise.image.api;

import dev.reprise.auth.AuthException;
import dev.reprise.auth.Grant;
import dev.reprise.auth.TokenVerifier;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Every image API call needs one of the gateway's API tokens (Bearer, or HTTP Basic with the token
 * as password), checked like artifact-service checks them. Images are shared by all tenants: an
 * image is content-addressed by its dependency set and holds only public packages, so any
 * tenant's token may read and resolve. Building, deleting, pruning and invalidating need a
 * read-write token (an image removed is rebuilt by the next resolve; nothing is lost).
 */
@ApplicationScoped
public class ImageAuth {

    private final TokenVerifier verifier;

    ImageAuth(TokenVerifier verifier) {
        this.verifier = verifier;
    }

    @ServerRequestFilter
    public Uni<Response> authenticate(ContainerRequestContext request) {
        String path = request.getUriInfo().getPath();
        if (!path.startsWith("/api/")) {
            return Uni.createFrom().nullItem();
        }
        String needed = scopeNeeded(request.getMethod(), path);
        return verifier.verify(request.getHeaderString(HttpHeaders.AUTHORIZATION))
                .map(grant -> allows(grant, needed) ? (Response) null
                        : ProblemMappers.problem(Response.Status.FORBIDDEN, "forbidden", request.getMethod() + " " + path
                                + " needs a token with scope " + needed + "; this one is " + grant.scope()))
                .onFailure(AuthException.class).recoverWithItem(failure -> {
                    AuthException e = (AuthException) failure;
                    Response problem = ProblemMappers.problem(Response.Status.fromStatusCode(e.status()), e.type(), e.getMessage());
                    return e.status() == 401
                            ? Response.fromResponse(problem).header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"reprise\"").build()
                            : problem;
                });
    }

    /** read: look and resolve; read-write: build, delete, prune, invalidate. */
    static String scopeNeeded(String method, String path) {
        return method.equals("GET") || method.equals("HEAD") || path.endsWith("/resolve") ? "read" : "read-write";
    }

    private static boolean allows(Grant grant, String needed) {
        return needed.equals("read") || grant.canWrite();
    }
}
