package dev.reprise.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class TokenVerifierTest {

    private static final String TOKEN = "rpr_" + "A".repeat(43);

    @Test
    void bearerAndBasicCarryTheSameToken() {
        assertThat(TokenVerifier.tokenOf("Bearer " + TOKEN)).isEqualTo(TOKEN);
        assertThat(TokenVerifier.tokenOf("bearer  " + TOKEN)).isEqualTo(TOKEN);
        assertThat(TokenVerifier.tokenOf("Basic " + basic("gradle:" + TOKEN))).isEqualTo(TOKEN);
        assertThat(TokenVerifier.tokenOf("Basic " + basic(":" + TOKEN))).isEqualTo(TOKEN);
    }

    @Test
    void whatIsWrongIsSaid() {
        assertThatThrownBy(() -> TokenVerifier.tokenOf("Digest abc")).isInstanceOf(AuthException.class)
                .hasMessageContaining("unsupported authorization scheme");
        assertThatThrownBy(() -> TokenVerifier.tokenOf("Basic %%%")).hasMessageContaining("malformed Basic credentials");
        assertThatThrownBy(() -> TokenVerifier.tokenOf("Basic " + basic("user:password"))).hasMessageContaining("malformed token");
        assertThatThrownBy(() -> TokenVerifier.tokenOf("Bearer rpr_short")).hasMessageContaining("malformed token");
    }

    @Test
    void grantsSayWhoMayWrite() {
        assertThat(new Grant("t", "read", false).canWrite()).isFalse();
        assertThat(new Grant("t", "read-write", false).canWrite()).isTrue();
        assertThat(new Grant("t", "admin", false).canWrite()).isTrue();
        assertThat(new Grant("t", "operator", false).canWrite()).isTrue();
    }

    @Test
    void onlyAnOperatorTokenIsAnOperator() {
        assertThat(new Grant("t", "operator", false).isOperator()).isTrue();
        for (String scope : new String[] {"read", "read-write", "admin", "Operator", "operator "}) {
            assertThat(new Grant("t", scope, false).isOperator()).as(scope).isFalse();
        }
        assertThat(new Grant("t", "operator", true).isOperator()).as("never without credentials").isFalse();
    }

    private static String basic(String credentials) {
        return Base64.getEncoder().encodeToString(credentials.getBytes(StandardCharsets.UTF_8));
    }
}
