package dev.reprise.artifact.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reprise.artifact.http.ArtifactException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KeysTest {

    @Test
    void aSha256IsSixtyFourLowercaseHex() {
        assertThat(Keys.sha256(Keys.EMPTY_SHA256, "digest")).isEqualTo(Keys.EMPTY_SHA256);
        assertThatThrownBy(() -> Keys.sha256(Keys.EMPTY_SHA256.toUpperCase(), "the digest"))
                .isInstanceOf(ArtifactException.class).hasMessageContaining("the digest must be a sha256");
        assertThatThrownBy(() -> Keys.sha256("abc", "digest")).isInstanceOf(ArtifactException.class);
    }

    @Test
    void pathKeysKeepTheirSegments() {
        assertThat(Keys.pathKey("ab/0123456789abcdefghijklmnopqrstu", "key")).isEqualTo("ab/0123456789abcdefghijklmnopqrstu");
        assertThat(Keys.pathKey("ac/" + Keys.EMPTY_SHA256, "key")).startsWith("ac/");
    }

    @ParameterizedTest
    @ValueSource(strings = {"..", "a/../b", "./a", "a//b", "/a", "a/", "a\\b", "a b", "a\u0000b", "a%2fb", "ключ"})
    void pathKeysRefuseTraversalAndStrangeCharacters(String key) {
        assertThatThrownBy(() -> Keys.pathKey(key, "the ccache key"))
                .isInstanceOf(ArtifactException.class)
                .satisfies(e -> assertThat(((ArtifactException) e).status()).isEqualTo(400))
                .hasMessageStartingWith("the ccache key");
    }

    @Test
    void aPathKeyHasALengthLimit() {
        assertThatThrownBy(() -> Keys.pathKey("a".repeat(513), "key")).hasMessageContaining("1 to 512");
    }

    @Test
    void cacheKeysArePrintableAsciiWithoutCommas() {
        assertThat(Keys.cacheKey("Linux-node-modules-v1 3f2a", "key")).isEqualTo("Linux-node-modules-v1 3f2a");
        assertThatThrownBy(() -> Keys.cacheKey("a,b", "key")).hasMessageContaining("','");
        assertThatThrownBy(() -> Keys.cacheKey("a\nb", "key")).hasMessageContaining("character code 10 at 1");
        assertThatThrownBy(() -> Keys.cacheKey("", "key")).hasMessageContaining("1 to 512");
    }

    @Test
    void branchesFollowGitsRules() {
        assertThat(Keys.branch("feature/login")).isEqualTo("feature/login");
        assertThat(Keys.branch(null)).isNull();
        for (String bad : new String[] {"a..b", "/a", "a/", "x.lock", "a b", "a~1", "a:b", "a\u0001"}) {
            assertThatThrownBy(() -> Keys.branch(bad)).as(bad).hasMessageContaining("is not a valid git branch name");
        }
    }

    @Test
    void tokensAreShortSafeNames() {
        assertThat(Keys.token("team_1.a-b", "team")).isEqualTo("team_1.a-b");
        assertThatThrownBy(() -> Keys.token("a/b", "team")).hasMessageContaining("team must be");
        assertThatThrownBy(() -> Keys.token("..", "team")).hasMessageContaining("not only dots");
        assertThatThrownBy(() -> Keys.token(".", "hash")).hasMessageContaining("hash must be");
        assertThat(Keys.token("v1.2", "hash")).isEqualTo("v1.2");
        assertThatThrownBy(() -> Keys.token("x".repeat(129), "team")).isInstanceOf(ArtifactException.class);
    }
}
