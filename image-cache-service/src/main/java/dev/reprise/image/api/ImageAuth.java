package dev.reprise.image.api;

import dev.reprise.web.Problem;
import dev.reprise.auth.AuthException;
import dev.reprise.auth.Grant;
import dev.reprise.auth.OperatorGuard;
import dev.reprise.auth.TokenVerifier;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Every image API call needs one of the gateway's API tokens (Bearer, or HTTP Basic with the token
 * as password), checked like artifact-service checks them. Images are shared by all tenants: an
 * image is content-addressed by its dependency set and holds only public packages, so any
 * tenant's token may read, and resolve what exists (the resolve itself refuses a read token what
 * would start a build). Building and deleting need a read-write token. Pruning and invalidating
 * act on every tenant's images: they are {@link dev.reprise.auth.OperatorOnly}, left with the
 * cache report to auth-support's {@link OperatorGuard}.
 */
@ApplicationScoped
public class ImageAuth {

    private final TokenVerifier verifier;

    ImageAuth(TokenVerifier verifier) {
        this.verifier = verifier;
    }

    @ServerRequestFilter
    public Uni<Response> authenticate(ContainerRequestContext request, ResourceInfo resource) {
        String path = request.getUriInfo().getPath();
        if (!path.startsWith("/api/") || OperatorGuard.guards(resource)) {
            return Uni.createFrom().nullItem();
        }
        String needed = scopeNeeded(request.getMethod(), path);
        return verifier.verify(request.getHeaderString(HttpHeaders.AUTHORIZATION))
                .map(grant -> allows(grant, needed) ? (Response) null
                        : Problem.of(403, "forbidden", request.getMethod() + " " + path
                                + " needs a token with scope " + needed + "; this one is " + grant.scope()).response())
                .onFailure(AuthException.class).recoverWithItem(failure -> ((AuthException) failure).toResponse());
    }

    /** read: look and resolve; read-write: build, delete. */
    static String scopeNeeded(String method, String path) {
        return method.equals("GET") || method.equals("HEAD") || path.endsWith("/resolve") ? "read" : "read-write";
    }

    private static boolean allows(Grant grant, String needed) {
        return needed.equals("read") || grant.canWrite();
    }
}
