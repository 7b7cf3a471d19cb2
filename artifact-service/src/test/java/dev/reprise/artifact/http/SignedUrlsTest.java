package dev.reprise.artifact.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reprise.artifact.http.SignedUrls.Purpose;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SignedUrlsTest {

    private static final Instant NOW = Instant.parse("2026-12-02T12:00:00Z");

    @Test
    void aUrlIsValidForItsPurposeTenantAndIdUntilItExpires() {
        SignedUrls signer = signer("a-secret-of-enough-length", NOW);
        String query = signer.query(Purpose.DOWNLOAD, "team-a", 42);
        assertThat(signer.verify(request(query), Purpose.DOWNLOAD, 42)).isEqualTo("team-a");

        assertThatThrownBy(() -> signer.verify(request(query), Purpose.UPLOAD, 42)).hasMessageContaining("signature");
        assertThatThrownBy(() -> signer.verify(request(query), Purpose.DOWNLOAD, 43)).hasMessageContaining("signature");
        assertThatThrownBy(() -> signer.verify(request(query.replace("team-a", "team-b")), Purpose.DOWNLOAD, 42)).hasMessageContaining("signature");
        assertThatThrownBy(() -> signer("another-secret-of-length", NOW).verify(request(query), Purpose.DOWNLOAD, 42))
                .hasMessageContaining("signature");
        assertThatThrownBy(() -> signer("a-secret-of-enough-length", NOW.plus(Duration.ofMinutes(16))).verify(request(query), Purpose.DOWNLOAD, 42))
                .hasMessageContaining("expired");
        assertThat(signer("a-secret-of-enough-length", NOW.plus(Duration.ofMinutes(14))).verify(request(query), Purpose.DOWNLOAD, 42))
                .as("another instance with the same secret").isEqualTo("team-a");
        assertThatThrownBy(() -> signer.verify(request("tenant=team-a"), Purpose.DOWNLOAD, 42)).hasMessageContaining("not signed");
    }

    @Test
    void withoutASecretOnlyThisProcessCanCheckItsUrls() {
        SignedUrls one = new SignedUrls(null, Duration.ofMinutes(15), Clock.fixed(NOW, ZoneOffset.UTC));
        SignedUrls other = new SignedUrls(null, Duration.ofMinutes(15), Clock.fixed(NOW, ZoneOffset.UTC));
        String query = one.query(Purpose.UPLOAD, "t", 1);
        assertThat(one.verify(request(query), Purpose.UPLOAD, 1)).isEqualTo("t");
        assertThatThrownBy(() -> other.verify(request(query), Purpose.UPLOAD, 1)).isInstanceOf(ArtifactException.class);
    }

    private static SignedUrls signer(String secret, Instant now) {
        return new SignedUrls(secret, Duration.ofMinutes(15), Clock.fixed(now, ZoneOffset.UTC));
    }

    private static java.util.function.Function<String, String> request(String query) {
        Map<String, String> params = new LinkedHashMap<>();
        for (String pair : query.split("&")) {
            String[] kv = pair.split("=", 2);
            params.put(kv[0], URLDecoder.decode(kv.length > 1 ? kv[1] : "", StandardCharsets.UTF_8));
        }
        return params::get;
    }
}
