package dev.reprise.cache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;

class CacheSignerTest {

    private static final String KEY = "reprise:cache:token:" + "a".repeat(64);
    private static final String GRANT = "{\"tenantId\":\"t1\",\"tenantName\":\"t1\",\"tokenName\":\"ci\",\"scope\":\"read\"}";
    private final CacheSigner signer = CacheSigner.fromSecret("reprise-test-stream-secret-0123456789");

    @Test
    void aSealedValueOpensUnderItsKeyOnly() {
        String sealed = signer.seal(KEY, GRANT);
        assertThat(sealed).startsWith("s1:").endsWith(":" + GRANT);
        assertThat(signer.open(KEY, sealed)).isEqualTo(new CacheSigner.Opened(GRANT, null));
        assertThat(signer.open("reprise:cache:token:" + "b".repeat(64), sealed).refusal()).isEqualTo("bad-mac");
        assertThat(CacheSigner.fromSecret("reprise-test-stream-secret-0123456789").open(KEY, sealed).valid())
                .as("another instance with the same secret").isTrue();
    }

    @Test
    void anyChangeToTheContentBreaksTheSeal() {
        String sealed = signer.seal(KEY, GRANT);
        assertThat(signer.open(KEY, sealed.replace("\"read\"", "\"admin\"")).refusal()).isEqualTo("bad-mac");
        assertThat(signer.open(KEY, sealed + " ").refusal()).isEqualTo("bad-mac");
        char first = sealed.charAt(3);
        assertThat(signer.open(KEY, "s1:" + (first == 'A' ? 'B' : 'A') + sealed.substring(4)).refusal()).isEqualTo("bad-mac");
    }

    @Test
    void unsignedAndMalformedValuesAreRefused() {
        assertThat(signer.open(KEY, GRANT).refusal()).isEqualTo("unsigned");
        assertThat(signer.open(KEY, "s1:").refusal()).isEqualTo("malformed");
        assertThat(signer.open(KEY, "s1:" + "A".repeat(43) + GRANT).refusal()).isEqualTo("malformed");
        assertThat(signer.open(KEY, "s1:" + "A".repeat(43) + ":" + GRANT).refusal()).isEqualTo("bad-mac");
    }

    @Test
    void anotherSecretOrAProcessKeyCannotOpenIt() {
        String sealed = signer.seal(KEY, GRANT);
        assertThat(CacheSigner.fromSecret("some-other-secret-0123456789").open(KEY, sealed).valid()).isFalse();
        CacheSigner processKey = CacheSigner.ephemeral();
        assertThat(processKey.isEphemeral()).isTrue();
        assertThat(processKey.open(KEY, sealed).valid()).isFalse();
        assertThat(processKey.open(KEY, processKey.seal(KEY, GRANT)).valid()).isTrue();
        assertThat(CacheSigner.ephemeral().open(KEY, processKey.seal(KEY, GRANT)).valid()).isFalse();
    }

    @Test
    void theMacKeyIsDerivedNotTheSecretItself() throws Exception {
        // A MAC made with the raw secret (as stream tickets are) is not a cache seal.
        String secret = "reprise-test-stream-secret-0123456789";
        Mac mac = Mac.getInstance("HmacSHA256");
        mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
        byte[] keyBytes = KEY.getBytes(StandardCharsets.UTF_8);
        mac.update(java.nio.ByteBuffer.allocate(4).putInt(keyBytes.length).array());
        mac.update(keyBytes);
        String forged = "s1:" + Base64.getUrlEncoder().withoutPadding().encodeToString(mac.doFinal(GRANT.getBytes(StandardCharsets.UTF_8)))
                + ":" + GRANT;
        assertThat(signer.open(KEY, forged).refusal()).isEqualTo("bad-mac");
    }

    @Test
    void aShortSecretIsRefused() {
        assertThatThrownBy(() -> CacheSigner.fromSecret("short")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("at least 16 characters");
        assertThatThrownBy(() -> CacheSigner.fromSecret(null)).isInstanceOf(IllegalArgumentException.class);
    }
}
