package dev.reprise.gateway.api;

import dev.reprise.gateway.service.TokenAuthenticator;
import dev.reprise.web.ProblemException;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * The gateway's resources under {@code /api/v1/admin} (cache-support's cache report) take an
 * operator token: no token 401, any other scope 403. The other services get the same rule from
 * auth-support's OperatorGuard; the gateway decides tokens itself, so it checks them here. Decided
 * on the resource the request matched, never on the path as sent.
 */
@ApplicationScoped // a client proxy: filters are set up at static init, before runtime config exists
public class AdminApiGuard {

    static final String ADMIN_PATH = "/api/v1/admin/";

    private final TokenAuthenticator auth;

    public AdminApiGuard(TokenAuthenticator auth) {
        this.auth = auth;
    }

    @ServerRequestFilter
    public Uni<Response> guard(ContainerRequestContext request, ResourceInfo resource) {
        if (!isAdminResource(resource)) {
            return Uni.createFrom().nullItem();
        }
        String what = request.getMethod() + " /" + request.getUriInfo().getPath().replaceFirst("^/+", "");
        return auth.authenticateOperator(request.getHeaderString(HttpHeaders.AUTHORIZATION), what).map(grant -> (Response) null)
                .onFailure(ProblemException.class).recoverWithItem(e -> ((ProblemException) e).toResponse());
    }

    static boolean isAdminResource(ResourceInfo resource) {
        if (resource == null || resource.getResourceClass() == null || resource.getResourceMethod() == null) {
            return false;
        }
        Path onClass = resource.getResourceClass().getAnnotation(Path.class);
        Path onMethod = resource.getResourceMethod().getAnnotation(Path.class);
        String template = ("/" + (onClass == null ? "" : onClass.value()) + "/" + (onMethod == null ? "" : onMethod.value()) + "/")
                .replaceAll("/{2,}", "/");
        return template.startsWith(ADMIN_PATH);
    }
}
