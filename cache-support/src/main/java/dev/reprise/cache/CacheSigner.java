package dev.reprise.cache;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Seals the values a {@link RedisCache} stores, so that a value read back is trusted only when
 * this deployment wrote it under that very key: {@code s1:<mac>:<json>}, where {@code mac} is
 * HMAC-SHA256 over the full Redis key and the exact JSON bytes (the bytes that are then parsed, so
 * nothing is verified in one shape and used in another). Whoever can write Redis can still delete
 * or replace a value, which only makes a miss; they cannot make one up, nor copy a grant of one
 * token to another token's key.
 */
public final class CacheSigner {

    /** Shortest secret accepted (the stream secret it is usually derived from has the same rule). */
    public static final int MIN_SECRET_LENGTH = 16;
    static final String PREFIX = "s1:";
    private static final int MAC_CHARS = 43; // 32 bytes, base64url without padding
    private static final int HEADER = PREFIX.length() + MAC_CHARS + 1;
    // Domain separation: the MAC key is not the secret itself, so a value signed here is never a valid
    // signature for another use of the same secret (stream tickets sign base64url text, never spaces).
    private static final String LABEL = "reprise redis-cache signing key v1";
    private static final Base64.Encoder B64 = Base64.getUrlEncoder().withoutPadding();

    /** What {@link #open} found: the JSON, or why the value is refused ({@code unsigned}, {@code malformed}, {@code bad-mac}). */
    public record Opened(String json, String refusal) {

        public boolean valid() {
            return refusal == null;
        }
    }

    private final SecretKeySpec key;
    private final boolean ephemeral;

    private CacheSigner(byte[] key, boolean ephemeral) {
        this.key = new SecretKeySpec(key, "HmacSHA256");
        this.ephemeral = ephemeral;
    }

    /** A signer whose key is derived from {@code secret}: every instance given the same secret reads the others' values. */
    public static CacheSigner fromSecret(String secret) {
        if (secret == null || secret.strip().length() < MIN_SECRET_LENGTH) {
            throw new IllegalArgumentException("reprise.redis-cache.signing-secret must be at least " + MIN_SECRET_LENGTH
                    + " characters (or unset, for a key of this process only)");
        }
        byte[] derived = hmac(new SecretKeySpec(secret.strip().getBytes(StandardCharsets.UTF_8), "HmacSHA256"),
                LABEL.getBytes(StandardCharsets.UTF_8));
        return new CacheSigner(derived, false);
    }

    /** A signer with a random key: only this process can read what it stores (the cache then lives as long as the process). */
    public static CacheSigner ephemeral() {
        byte[] random = new byte[32];
        new SecureRandom().nextBytes(random);
        return new CacheSigner(random, true);
    }

    /** True when the key is this process's own (no secret configured). */
    public boolean isEphemeral() {
        return ephemeral;
    }

    /** The value to store under the full Redis key {@code redisKey}. */
    public String seal(String redisKey, String json) {
        return PREFIX + B64.encodeToString(mac(redisKey, json)) + ":" + json;
    }

    /** The JSON sealed in {@code raw} when it was sealed by this signer for {@code redisKey}; else why not. */
    public Opened open(String redisKey, String raw) {
        if (!raw.startsWith(PREFIX)) {
            return new Opened(null, "unsigned");
        }
        if (raw.length() < HEADER || raw.charAt(HEADER - 1) != ':') {
            return new Opened(null, "malformed");
        }
        String json = raw.substring(HEADER);
        byte[] expected = B64.encode(mac(redisKey, json));
        byte[] given = raw.substring(PREFIX.length(), HEADER - 1).getBytes(StandardCharsets.ISO_8859_1);
        return MessageDigest.isEqual(expected, given) ? new Opened(json, null) : new Opened(null, "bad-mac");
    }

    /** HMAC over the key's length, the key and the JSON: no two (key, value) pairs share an input. */
    private byte[] mac(String redisKey, String json) {
        byte[] keyBytes = redisKey.getBytes(StandardCharsets.UTF_8);
        byte[] jsonBytes = json.getBytes(StandardCharsets.UTF_8);
        ByteBuffer input = ByteBuffer.allocate(4 + keyBytes.length + jsonBytes.length);
        input.putInt(keyBytes.length).put(keyBytes).put(jsonBytes);
        return hmac(key, input.array());
    }

    private static byte[] hmac(SecretKeySpec key, byte[] data) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            return mac.doFinal(data);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("every JVM has HmacSHA256", e);
        }
    }
}
