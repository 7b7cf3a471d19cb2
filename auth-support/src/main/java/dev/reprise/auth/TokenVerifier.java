package dev.reprise.auth;

import dev.reprise.cache.RedisCache;
import dev.reprise.cache.RedisCaches;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.ws.rs.WebApplicationException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.Base64;
import java.util.Map;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Pattern;
import dev.reprise.events.StreamTickets;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.rest.client.inject.RestClient;
import org.jboss.logging.Logger;

/**
 * Turns an {@code Authorization} header into a {@link Grant}. Bearer tokens for clients that send
 * them (Turborepo, curl), and HTTP Basic with the token as password (any user name) for clients
 * that only speak Basic (Gradle, ccache, Bazel). The gateway decides; its answers are cached in
 * Redis by the token's sha256 (never the token), signed for that key with the service's
 * {@code reprise.redis-cache.signing-secret}: a grant in Redis that this deployment did not sign for
 * this token is a miss, and the gateway is asked. Unknown tokens are not cached.
 *
 * <p>Where the service knows the stream secret ({@code reprise.stream.secret}), an artifacts ticket
 * ({@link StreamTickets#ARTIFACTS}) in place of a token grants read-write on its tenant until it
 * expires: what a build runner presents for one build's dependency cache. No gateway round trip.
 */
@ApplicationScoped
public class TokenVerifier {

    private static final Logger LOG = Logger.getLogger(TokenVerifier.class);
    private static final Pattern TOKEN = Pattern.compile("rpr_[A-Za-z0-9_-]{43}");

    private final GatewayApi gateway;
    private final RedisCache<WhoAmI> grants;
    private final Duration timeout;
    private final Optional<String> anonymousReadTenant;
    private final Optional<StreamTickets> tickets;

    /**
     * @param timeout how long a token check waits for the gateway before the request gets 503
     * @param anonymousReadTenant the tenant whose data requests without credentials may read;
     *        unset: every request needs a token
     */
    TokenVerifier(@RestClient GatewayApi gateway, RedisCaches caches,
            @ConfigProperty(name = "reprise.auth.timeout", defaultValue = "3s") Duration timeout,
            @ConfigProperty(name = "reprise.auth.anonymous-read-tenant") Optional<String> anonymousReadTenant,
            @ConfigProperty(name = "reprise.stream.secret") Optional<String> streamSecret) {
        this.gateway = gateway;
        this.tickets = streamSecret.map(String::strip).filter(s -> s.length() >= StreamTickets.MIN_SECRET_LENGTH).map(StreamTickets::new);
        this.grants = caches.cache("token", WhoAmI.class);
        this.timeout = timeout;
        this.anonymousReadTenant = anonymousReadTenant;
    }

    /** @return the grant, or fails with an {@link AuthException} (401, or 503 when the gateway cannot say) */
    public Uni<Grant> verify(String authorization) {
        if (authorization == null || authorization.isBlank()) {
            if (anonymousReadTenant.isPresent()) {
                return Uni.createFrom().item(new Grant(anonymousReadTenant.get(), "read", true));
            }
            return fail("missing credentials: send 'Authorization: Bearer <token>', or HTTP Basic with the token as password");
        }
        Optional<Grant> ticket = ticketGrant(authorization.strip());
        if (ticket.isPresent()) {
            return Uni.createFrom().item(ticket.get());
        }
        String token;
        try {
            token = tokenOf(authorization.strip());
        } catch (AuthException e) {
            return Uni.createFrom().failure(e);
        }
        // Cached by the token's hash in Redis (reprise.redis-cache.caches.token.ttl) and in this process
        // (.local, 1 s): a busy build does not ask Redis for every blob, and a revoked token stops working
        // within those few seconds.
        return grants.getOrLoad(sha256(token), () -> ask(token))
                .ifNoItem().after(timeout).failWith(() -> unavailable())
                .map(who -> {
                    if (who == null) {
                        throw AuthException.unauthorized("unknown or revoked token");
                    }
                    return new Grant(who.tenantId(), who.scope(), false);
                });
    }

    private Uni<WhoAmI> ask(String token) {
        return gateway.whoami("Bearer " + token)
                .onFailure().recoverWithUni(e -> {
                    if (e instanceof WebApplicationException w && w.getResponse().getStatus() == 401) {
                        return Uni.createFrom().nullItem();
                    }
                    LOG.warnf("The gateway could not check a token (%s)", e.toString());
                    return Uni.createFrom().failure(unavailable());
                });
    }

    /** The grant of a valid, unexpired artifacts ticket sent as a Bearer credential; empty for anything else. */
    Optional<Grant> ticketGrant(String authorization) {
        if (tickets.isEmpty() || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            return Optional.empty();
        }
        String credential = authorization.substring(7).strip();
        if (credential.startsWith("rpr_") || credential.indexOf('.') < 0) {
            return Optional.empty();
        }
        return tickets.get().verify(credential, java.time.Instant.now())
                .filter(t -> StreamTickets.ARTIFACTS.equals(t.subject()) && StreamTickets.isTenantId(t.tenantId()))
                .map(t -> new Grant(t.tenantId(), "read-write", false));
    }

    /** The token in a Bearer or Basic header, or a 401 saying what is wrong. */
    public static String tokenOf(String authorization) {
        String token;
        if (authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
            token = authorization.substring(7).strip();
        } else if (authorization.regionMatches(true, 0, "Basic ", 0, 6)) {
            String decoded;
            try {
                decoded = new String(Base64.getDecoder().decode(authorization.substring(6).strip()), StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw AuthException.unauthorized("malformed Basic credentials: expected base64 of 'user:token'");
            }
            int colon = decoded.indexOf(':');
            token = colon < 0 ? decoded : decoded.substring(colon + 1);
        } else {
            throw AuthException.unauthorized("unsupported authorization scheme: use Bearer <token> or Basic with the token as password");
        }
        if (!TOKEN.matcher(token).matches()) {
            throw AuthException.unauthorized("malformed token: a Reprise token starts with 'rpr_' followed by 43 base64url characters");
        }
        return token;
    }

    private static Uni<Grant> fail(String message) {
        return Uni.createFrom().failure(AuthException.unauthorized(message));
    }

    private static AuthException unavailable() {
        return new AuthException(503, "auth-unavailable", "the token could not be checked (gateway unreachable); try again shortly");
    }

    public static String sha256(String value) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(value.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
