package dev.reprise.gateway.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reprise.gateway.service.CacheKeys.Inputs;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Pins the canonical form: if these fail, every existing cache key changed. */
class CacheKeysTest {

    private static final Inputs INPUTS = new Inputs("team-a", "https://github.com/org/app", "0123456789abcdef0123456789abcdef01234567",
            "maven", "3.8.7", "1", "none", null, Map.of("PROFILE", "ci", "CI", "true"));

    @Test
    void theCanonicalFormIsFixed() {
        assertThat(CacheKeys.canonicalForm(INPUTS)).isEqualTo("{\"v\":2,\"tenant\":\"team-a\",\"repository\":\"https://github.com/org/app\","
                + "\"commit\":\"0123456789abcdef0123456789abcdef01234567\",\"tool\":\"maven\",\"toolVersion\":\"3.8.7\","
                + "\"runnerVersion\":\"1\",\"image\":\"none\",\"command\":null,\"env\":{\"CI\":\"true\",\"PROFILE\":\"ci\"}}");
    }

    @Test
    void theKeyIsTheSha256OfTheCanonicalForm() {
        // echo -n '<canonical form above>' | sha256sum
        assertThat(CacheKeys.key(INPUTS)).isEqualTo("27b706cfa6446045ec4e4c89d3e1567975e2eda292de443ab73014a9a47f49dc");
    }

    @Test
    void envOrderDoesNotMatterButEveryInputDoes() {
        Map<String, String> reversed = new LinkedHashMap<>();
        reversed.put("PROFILE", "ci");
        reversed.put("CI", "true");
        String key = CacheKeys.key(INPUTS);
        assertThat(CacheKeys.key(with(INPUTS, reversed))).isEqualTo(key);

        assertThat(CacheKeys.key(new Inputs("team-a", "https://github.com/org/other", INPUTS.commit(), "maven", "3.8.7", "1", "none",
                null, INPUTS.env()))).isNotEqualTo(key);
        assertThat(CacheKeys.key(new Inputs("team-a", INPUTS.repository(), "f".repeat(40), "maven", "3.8.7", "1", "none", null,
                INPUTS.env()))).isNotEqualTo(key);
        assertThat(CacheKeys.key(new Inputs("team-a", INPUTS.repository(), INPUTS.commit(), "maven", "3.9.0", "1", "none", null,
                INPUTS.env()))).isNotEqualTo(key);
        assertThat(CacheKeys.key(new Inputs("team-a", INPUTS.repository(), INPUTS.commit(), "maven", "3.8.7", "2", "none", null,
                INPUTS.env()))).isNotEqualTo(key);
        assertThat(CacheKeys.key(new Inputs("team-a", INPUTS.repository(), INPUTS.commit(), "maven", "3.8.7", "1", "sha256:ab",
                null, INPUTS.env()))).isNotEqualTo(key);
        assertThat(CacheKeys.key(new Inputs("team-a", INPUTS.repository(), INPUTS.commit(), "maven", "3.8.7", "1", "none",
                "mvn -B package", INPUTS.env()))).isNotEqualTo(key);
        assertThat(CacheKeys.key(with(INPUTS, Map.of("CI", "true")))).isNotEqualTo(key);
        assertThat(CacheKeys.key(new Inputs("team-b", INPUTS.repository(), INPUTS.commit(), "maven", "3.8.7", "1", "none", null,
                INPUTS.env()))).as("another tenant's build of the same commit").isNotEqualTo(key);
    }

    @Test
    void valuesCannotRunIntoEachOther() {
        Inputs a = new Inputs("team-a", "r", "c", "custom", "v", "1", "none", "a\",\"env\":{}", Map.of());
        Inputs b = new Inputs("team-a", "r", "c", "custom", "v", "1", "none", "a", Map.of());
        assertThat(CacheKeys.key(a)).isNotEqualTo(CacheKeys.key(b));
    }

    private static Inputs with(Inputs in, Map<String, String> env) {
        return new Inputs(in.tenant(), in.repository(), in.commit(), in.tool(), in.toolVersion(), in.runnerVersion(), in.image(),
                in.command(), env);
    }
}
