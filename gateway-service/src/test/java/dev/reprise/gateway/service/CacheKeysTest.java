package dev.reprise.gateway.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reprise.gateway.service.CacheKeys.Inputs;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Pins the canonical form: if these fail, every existing cache key changed. */
class CacheKeysTest {

    private static final Inputs INPUTS = new Inputs("https://github.com/org/app", "0123456789abcdef0123456789abcdef01234567",
            "maven", "3.8.7", "1", "none", null, Map.of("PROFILE", "ci", "CI", "true"));

    @Test
    void theCanonicalFormIsFixed() {
        assertThat(CacheKeys.canonicalForm(INPUTS)).isEqualTo("{\"v\":1,\"repository\":\"https://github.com/org/app\","
                + "\"commit\":\"0123456789abcdef0123456789abcdef01234567\",\"tool\":\"maven\",\"toolVersion\":\"3.8.7\","
                + "\"runnerVersion\":\"1\",\"image\":\"none\",\"command\":null,\"env\":{\"CI\":\"true\",\"PROFILE\":\"ci\"}}");
    }

    @Test
    void theKeyIsTheSha256OfTheCanonicalForm() {
        // echo -n '<canonical form above>' | sha256sum
        assertThat(CacheKeys.key(INPUTS)).isEqualTo("a6f27b4c891a87629f32e86fca80873190a6c1732020c323d23e3a89d853bd5a");
    }

    @Test
    void envOrderDoesNotMatterButEveryInputDoes() {
        Map<String, String> reversed = new LinkedHashMap<>();
        reversed.put("PROFILE", "ci");
        reversed.put("CI", "true");
        String key = CacheKeys.key(INPUTS);
        assertThat(CacheKeys.key(with(INPUTS, reversed))).isEqualTo(key);

        assertThat(CacheKeys.key(new Inputs("https://github.com/org/other", INPUTS.commit(), "maven", "3.8.7", "1", "none",
                null, INPUTS.env()))).isNotEqualTo(key);
        assertThat(CacheKeys.key(new Inputs(INPUTS.repository(), "f".repeat(40), "maven", "3.8.7", "1", "none", null,
                INPUTS.env()))).isNotEqualTo(key);
        assertThat(CacheKeys.key(new Inputs(INPUTS.repository(), INPUTS.commit(), "maven", "3.9.0", "1", "none", null,
                INPUTS.env()))).isNotEqualTo(key);
        assertThat(CacheKeys.key(new Inputs(INPUTS.repository(), INPUTS.commit(), "maven", "3.8.7", "2", "none", null,
                INPUTS.env()))).isNotEqualTo(key);
        assertThat(CacheKeys.key(new Inputs(INPUTS.repository(), INPUTS.commit(), "maven", "3.8.7", "1", "sha256:ab",
                null, INPUTS.env()))).isNotEqualTo(key);
        assertThat(CacheKeys.key(new Inputs(INPUTS.repository(), INPUTS.commit(), "maven", "3.8.7", "1", "none",
                "mvn -B package", INPUTS.env()))).isNotEqualTo(key);
        assertThat(CacheKeys.key(with(INPUTS, Map.of("CI", "true")))).isNotEqualTo(key);
    }

    @Test
    void valuesCannotRunIntoEachOther() {
        Inputs a = new Inputs("r", "c", "custom", "v", "1", "none", "a\",\"env\":{}", Map.of());
        Inputs b = new Inputs("r", "c", "custom", "v", "1", "none", "a", Map.of());
        assertThat(CacheKeys.key(a)).isNotEqualTo(CacheKeys.key(b));
    }

    private static Inputs with(Inputs in, Map<String, String> env) {
        return new Inputs(in.repository(), in.commit(), in.tool(), in.toolVersion(), in.runnerVersion(), in.image(),
                in.command(), env);
    }
}
