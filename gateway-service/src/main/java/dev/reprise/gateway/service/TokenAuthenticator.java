package dev.reprise.gateway.service;

import dev.reprise.web.ProblemException;
import java.util.Map;
import dev.reprise.cache.RedisCache;
import dev.reprise.cache.RedisCaches;
import dev.reprise.gateway.store.TenantStore;
import dev.reprise.gateway.store.TenantStore.TokenGrant;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;

/** Turns an {@code Authorization} header into the tenant it grants, or says what is wrong with it. */
@ApplicationScoped
public class TokenAuthenticator {

    /** The scope of who runs the installation (local mode writes one to .reprise/operator-token). */
    public static final String OPERATOR = "operator";

    private final TenantStore tenants;
    private final RedisCache<TokenGrant> grants;

    public TokenAuthenticator(TenantStore tenants, RedisCaches caches) {
        this.tenants = tenants;
        this.grants = caches.cache("token", TokenGrant.class);
    }

    /** @throws UnauthorizedException with a message saying what to fix */
    public Uni<TokenGrant> authenticate(String authorization) {
        if (authorization == null || authorization.isBlank()) {
            return Uni.createFrom().failure(new UnauthorizedException(
                    "missing token: send 'Authorization: Bearer <token>' (local mode writes one to .reprise/token)"));
        }
        if (!authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return Uni.createFrom().failure(new UnauthorizedException(
                    "unsupported authorization scheme: use 'Authorization: Bearer <token>'"));
        }
        String token = authorization.substring(7).strip();
        if (!ApiTokens.wellFormed(token)) {
            return Uni.createFrom().failure(new UnauthorizedException(
                    "malformed token: a Reprise token starts with 'rpr_' followed by 43 base64url characters"));
        }
        // Grants are cached by token hash (never the token) for reprise.redis-cache.caches.token.ttl,
        // signed for that key (cache-support): a grant written into Redis by anyone else, or copied from
        // another token's key, is a miss and PostgreSQL answers. Unknown tokens are not cached.
        // Revoking a token must invalidate its hash here.
        String hash = ApiTokens.hash(token);
        return grants.getOrLoad(hash, () -> tenants.findActiveToken(hash).map(grant -> grant.orElse(null)))
                .map(grant -> {
                    if (grant == null) {
                        throw new UnauthorizedException("unknown or revoked token");
                    }
                    return grant;
                });
    }

    /** Authenticates and requires a token that may write (read-write, admin or operator). */
    public Uni<TokenGrant> authenticateWriter(String authorization) {
        return authenticate(authorization).invoke(grant -> {
            if ("read".equals(grant.scope())) {
                throw new ForbiddenException("this token is read-only; use a read-write token to start or cancel builds");
            }
        });
    }

    /**
     * Authenticates and requires an operator token: store-wide actions, never a tenant's token
     * (a tenant's admin included).
     */
    public Uni<TokenGrant> authenticateOperator(String authorization, String what) {
        return authenticate(authorization).invoke(grant -> {
            if (!OPERATOR.equals(grant.scope())) {
                throw new ForbiddenException(what + " acts on the whole store, every tenant's data: it needs a token with scope "
                        + OPERATOR + "; this one is " + grant.scope());
            }
        });
    }

    /** The token is valid but may not do this (HTTP 403). */
    public static final class ForbiddenException extends ProblemException {
        public ForbiddenException(String message) {
            super(403, "forbidden", message);
        }
    }

    /** The caller's credentials are missing or wrong (HTTP 401). */
    public static final class UnauthorizedException extends ProblemException {
        public UnauthorizedException(String message) {
            super(401, "unauthorized", message, null, Map.of("WWW-Authenticate", "Bearer realm=\"reprise\""));
        }
    }
}
