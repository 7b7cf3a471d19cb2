package dev.reprise.events;

import java.nio.charset.StandardCharsets;
import java.security.InvalidKeyException;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Instant;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Optional;
import java.util.regex.Pattern;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * What lets a client into replay-service, which holds every tenant's streams and recordings.
 *
 * <ul>
 *   <li>A <b>stream ticket</b> is issued by the gateway with every {@code streamUrl}, after it checked
 *       the caller's token and tenant: {@code base64url(v1 \n tenant \n subject \n expiry)} {@code .}
 *       {@code base64url(HMAC-SHA256)}. Its subject is {@code build:<id>} or {@code key:<cacheKey>},
 *       so it opens that one stream until it expires. Browsers cannot send headers on a WebSocket,
 *       so it travels in the URL; it is not a token and is worthless for anything else.</li>
 *   <li>An <b>artifacts ticket</b> (subject {@link #ARTIFACTS}) is what a build runner presents to
 *       artifact-service, as a bearer credential, to read and write one tenant's dependency caches
 *       while that tenant's build runs.</li>
 *   <li>The <b>service token</b> ({@code X-Reprise-Service} header) is what the gateway sends on its
 *       internal calls (cache lookups, invalidations, stats) that name a tenant themselves.</li>
 * </ul>
 * All are derived from one secret the services share ({@code REPRISE_STREAM_SECRET}).
 */
public final class StreamTickets {

    public static final String SERVICE_HEADER = "X-Reprise-Service";
    public static final String QUERY_PARAMETER = "ticket";
    public static final int MIN_SECRET_LENGTH = 16;
    private static final Pattern TENANT = Pattern.compile("[A-Za-z0-9._-]{1,64}");
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

    /** What a valid ticket says: this tenant may open this subject until then. */
    public record Ticket(String tenantId, String subject, long expiresAtEpochSecond) {
    }

    private final SecretKeySpec key;
    private final String serviceToken;

    public StreamTickets(String secret) {
        if (secret == null || secret.strip().length() < MIN_SECRET_LENGTH) {
            throw new IllegalArgumentException("reprise.stream.secret (REPRISE_STREAM_SECRET) must be set to at least "
                    + MIN_SECRET_LENGTH + " characters, the same on gateway-service and replay-service");
        }
        this.key = new SecretKeySpec(secret.strip().getBytes(StandardCharsets.UTF_8), "HmacSHA256");
        this.serviceToken = HexFormat.of().formatHex(mac("reprise-service-v1"));
    }

    /** True for a tenant id a ticket can carry (letters, digits, '.', '_', '-'; 1 to 64). */
    public static boolean isTenantId(String value) {
        return value != null && TENANT.matcher(value).matches();
    }

    /**
     * The subject of a ticket a runner presents to artifact-service for one build: the tenant's own
     * entries, read and write, until the build's deadline (its dependency cache).
     */
    public static final String ARTIFACTS = "artifacts";

    public static String build(String buildId) {
        return "build:" + buildId;
    }

    public static String key(String cacheKey) {
        return "key:" + cacheKey;
    }

    public String issue(String tenantId, String subject, Instant expiresAt) {
        if (!TENANT.matcher(tenantId).matches() || subject.indexOf('\n') >= 0) {
            throw new IllegalArgumentException("not a tenant id or subject a ticket can carry");
        }
        String payload = B64.encodeToString(("v1\n" + tenantId + "\n" + subject + "\n" + expiresAt.getEpochSecond())
                .getBytes(StandardCharsets.UTF_8));
        return payload + "." + B64.encodeToString(mac(payload));
    }

    /** The ticket's claims when its signature is ours and it has not expired; empty otherwise. */
    public Optional<Ticket> verify(String ticket, Instant now) {
        if (ticket == null || ticket.length() > 1024) {
            return Optional.empty();
        }
        int dot = ticket.indexOf('.');
        if (dot <= 0) {
            return Optional.empty();
        }
        String payload = ticket.substring(0, dot);
        byte[] signature;
        String[] claims;
        try {
            signature = Base64.getUrlDecoder().decode(ticket.substring(dot + 1));
            claims = new String(Base64.getUrlDecoder().decode(payload), StandardCharsets.UTF_8).split("\n", -1);
        } catch (IllegalArgumentException e) {
            return Optional.empty();
        }
        if (!MessageDigest.isEqual(signature, mac(payload)) || claims.length != 4 || !"v1".equals(claims[0])) {
            return Optional.empty();
        }
        long expires;
        try {
            expires = Long.parseLong(claims[3]);
        } catch (NumberFormatException e) {
            return Optional.empty();
        }
        return expires < now.getEpochSecond() ? Optional.empty() : Optional.of(new Ticket(claims[1], claims[2], expires));
    }

    /** The value of {@link #SERVICE_HEADER} on internal calls. */
    public String serviceToken() {
        return serviceToken;
    }

    /** Constant-time check of an {@link #SERVICE_HEADER} value. */
    public boolean isServiceToken(String header) {
        return header != null && MessageDigest.isEqual(header.getBytes(StandardCharsets.UTF_8),
                serviceToken.getBytes(StandardCharsets.UTF_8));
    }

    private byte[] mac(String data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return mac.doFinal(data.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException | InvalidKeyException e) {
            throw new IllegalStateException("every JVM has HmacSHA256", e);
        }
    }
}
