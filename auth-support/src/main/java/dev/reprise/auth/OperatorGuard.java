package dev.reprise.auth;

import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.inject.Instance;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.container.ContainerRequestContext;
import jakarta.ws.rs.container.ResourceInfo;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;
import java.lang.reflect.Method;
import org.jboss.resteasy.reactive.server.ServerRequestFilter;

/**
 * Store-wide endpoints take an operator token and nothing less, on every service that has this
 * module: resources under {@code /api/v1/admin} (cache-support's cache report, which every service
 * serves) and methods marked {@link OperatorOnly}. Decided on the resource the request matched,
 * not on the path as sent, so no spelling of a path slips past. No credentials: 401; a token of
 * any other scope (a tenant's admin included): 403. A {@link TrustedCaller} of the service, when
 * it has one, passes too.
 */
@ApplicationScoped // a client proxy: filters are set up at static init, before runtime config exists
public class OperatorGuard {

    /** Where every service's operator resources live. */
    public static final String ADMIN_PATH = "/api/v1/admin";

    private final TokenVerifier verifier;
    private final Instance<TrustedCaller> trusted;

    OperatorGuard(TokenVerifier verifier, Instance<TrustedCaller> trusted) {
        this.verifier = verifier;
        this.trusted = trusted;
    }

    @ServerRequestFilter
    public Uni<Response> guard(ContainerRequestContext request, ResourceInfo resource) {
        if (!guards(resource)) {
            return Uni.createFrom().nullItem();
        }
        for (TrustedCaller caller : trusted) {
            if (caller.trusted(request)) {
                return Uni.createFrom().nullItem();
            }
        }
        String what = request.getMethod() + " /" + request.getUriInfo().getPath().replaceFirst("^/+", "");
        return verifier.verify(request.getHeaderString(HttpHeaders.AUTHORIZATION)).map(grant -> {
            if (grant.anonymous()) {
                throw AuthException.unauthorized(what + " acts on the whole store: send an operator token"
                        + " ('Authorization: Bearer <token>'; locally ./reprise operator-token prints one)");
            }
            if (!grant.isOperator()) {
                throw AuthException.forbidden(what + " acts on the whole store, every tenant's data: it needs a token with scope "
                        + Grant.OPERATOR + "; this one is " + grant.scope());
            }
            return (Response) null;
        }).onFailure(AuthException.class).recoverWithItem(failure -> ((AuthException) failure).toResponse());
    }

    /** True for a resource this filter keeps to operators. */
    public static boolean guards(ResourceInfo resource) {
        Method method = resource == null ? null : resource.getResourceMethod();
        Class<?> type = resource == null ? null : resource.getResourceClass();
        if (method == null || type == null) {
            return false;
        }
        if (method.isAnnotationPresent(OperatorOnly.class) || type.isAnnotationPresent(OperatorOnly.class)) {
            return true;
        }
        Path onClass = type.getAnnotation(Path.class);
        Path onMethod = method.getAnnotation(Path.class);
        return isAdminPath((onClass == null ? "" : onClass.value()) + "/" + (onMethod == null ? "" : onMethod.value()));
    }

    /** True for a resource path template under {@value #ADMIN_PATH}, however its slashes are written. */
    public static boolean isAdminPath(String template) {
        String normalised = ("/" + template + "/").replaceAll("/{2,}", "/");
        return normalised.startsWith(ADMIN_PATH + "/");
    }
}
