package dev.reprise.artifact.http;

import dev.reprise.artifact.config.ArtifactConfig;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Duration;
import java.util.Base64;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * The URLs actions/cache clients are handed and then use without a token (an archive to
 * download, an upload to write blocks to): each names one tenant and one entry or upload, carries
 * its expiry and an HMAC-SHA256 over purpose, tenant, id and expiry. Changing any of them, or
 * waiting past the expiry, makes the URL worthless.
 */
@ApplicationScoped
public class SignedUrls {

    /** What a URL lets its holder do; part of what is signed, so one kind is never valid as another. */
    public enum Purpose {
        DOWNLOAD, UPLOAD
    }

    // Domain separation from the other uses of the same secret (Redis cache values, stream tickets).
    private static final String LABEL = "reprise actions-cache url signing key v1";
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();
    private static final Pattern SIGNATURE = Pattern.compile("[A-Za-z0-9_-]{43}");
    private static final Pattern EXPIRY = Pattern.compile("[0-9]{1,12}");

    private final SecretKeySpec key;
    private final Duration ttl;
    private final Clock clock;

    @jakarta.inject.Inject
    public SignedUrls(ArtifactConfig config) {
        this(config.urlSigningSecret().map(String::strip).filter(s -> !s.isEmpty()).orElse(null), config.signedUrlTtl(), Clock.systemUTC());
    }

    SignedUrls(String secret, Duration ttl, Clock clock) {
        byte[] material;
        if (secret == null) {
            material = new byte[32];
            new SecureRandom().nextBytes(material);
        } else {
            material = hmac(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"), LABEL);
        }
        this.key = new SecretKeySpec(material, "HmacSHA256");
        this.ttl = ttl;
        this.clock = clock;
    }

    /** The query string ({@code tenant=…&exp=…&sig=…}) that lets its holder do {@code purpose} to {@code id}, for the TTL. */
    public String query(Purpose purpose, String tenantId, long id) {
        long expires = clock.instant().plus(ttl).getEpochSecond();
        return "tenant=" + URLEncoder.encode(tenantId, StandardCharsets.UTF_8) + "&exp=" + expires + "&sig="
                + B64.encodeToString(hmac(key, payload(purpose, tenantId, id, expires)));
    }

    /** The tenant a request's signed URL is for; 403 when it is missing, altered, for something else or expired. */
    public String verify(RoutingContext ctx, Purpose purpose, long id) {
        return verify(ctx.request()::getParam, purpose, id);
    }

    /** As {@link #verify(RoutingContext, Purpose, long)}, the query parameters by name. */
    String verify(java.util.function.Function<String, String> params, Purpose purpose, long id) {
        String tenant = params.apply("tenant");
        String expires = params.apply("exp");
        String signature = params.apply("sig");
        if (tenant == null || tenant.isEmpty() || expires == null || !EXPIRY.matcher(expires).matches() || signature == null
                || !SIGNATURE.matcher(signature).matches()) {
            throw ArtifactException.forbidden("this URL is not signed (tenant, exp and sig are required): ask the cache service for a new one");
        }
        byte[] expected = hmac(key, payload(purpose, tenant, id, Long.parseLong(expires)));
        if (!MessageDigest.isEqual(expected, Base64.getUrlDecoder().decode(signature))) {
            throw ArtifactException.forbidden("this URL's signature does not match: it was altered or is for something else");
        }
        if (clock.instant().getEpochSecond() > Long.parseLong(expires)) {
            throw ArtifactException.forbidden("this signed URL expired: ask the cache service for a new one");
        }
        return tenant;
    }

    private static String payload(Purpose purpose, String tenantId, long id, long expires) {
        return purpose + "\n" + tenantId + "\n" + id + "\n" + expires;
    }

    private static byte[] hmac(SecretKeySpec key, String text) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return mac.doFinal(text.getBytes(StandardCharsets.UTF_8));
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is unavailable", e);
        }
    }
}
