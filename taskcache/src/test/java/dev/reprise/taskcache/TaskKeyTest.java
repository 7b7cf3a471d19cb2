package dev.reprise.taskcache;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class TaskKeyTest {

    private static final TreeMap<String, String> INPUTS = new TreeMap<>(Map.of(
            "src/b.c", "bb".repeat(32), "src/a.c", "aa".repeat(32)));

    @Test
    void theCanonicalFormIsPinned() {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("CC_FLAGS", "-O2");
        env.put("ARCH", null);
        String canonical = TaskKey.canonical(INPUTS, List.of("make", "all"), env, Map.of("gcc", "gcc (Debian 12.2.0-14) 12.2.0"));
        assertThat(canonical).isEqualTo("{\"v\":1,\"inputs\":[{\"path\":\"src/a.c\",\"sha256\":\"" + "aa".repeat(32) + "\"},"
                + "{\"path\":\"src/b.c\",\"sha256\":\"" + "bb".repeat(32) + "\"}],\"command\":[\"make\",\"all\"],"
                + "\"env\":{\"ARCH\":null,\"CC_FLAGS\":\"-O2\"},\"toolchains\":{\"gcc\":\"gcc (Debian 12.2.0-14) 12.2.0\"}}");
        // sha256 of the line above, computed independently with sha256sum.
        assertThat(TaskKey.of(INPUTS, List.of("make", "all"), env, Map.of("gcc", "gcc (Debian 12.2.0-14) 12.2.0")))
                .isEqualTo("b526bb76a3b31e2f6f731c641914d7a4a6c8a0375b0e9745bb2f9c58e2e2e117");
    }

    @Test
    void everyPartChangesTheKeyButOrderDoesNot() {
        String base = TaskKey.of(INPUTS, List.of("make"), Map.of("A", "1", "B", "2"), Map.of());
        assertThat(TaskKey.of(new TreeMap<>(INPUTS.descendingMap()), List.of("make"), Map.of("B", "2", "A", "1"), Map.of())).isEqualTo(base);
        TreeMap<String, String> changed = new TreeMap<>(INPUTS);
        changed.put("src/a.c", "cc".repeat(32));
        assertThat(TaskKey.of(changed, List.of("make"), Map.of("A", "1", "B", "2"), Map.of())).isNotEqualTo(base);
        assertThat(TaskKey.of(INPUTS, List.of("make", "-j2"), Map.of("A", "1", "B", "2"), Map.of())).isNotEqualTo(base);
        assertThat(TaskKey.of(INPUTS, List.of("make"), Map.of("A", "1", "B", "3"), Map.of())).isNotEqualTo(base);
        assertThat(TaskKey.of(INPUTS, List.of("make"), Map.of("A", "1", "B", "2"), Map.of("make", "GNU Make 4.3"))).isNotEqualTo(base);
    }

    @Test
    void anUntrustedTreesLinksAreKeyedByTheirTextNeverReadThrough(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp) throws Exception {
        java.nio.file.Path outside = java.nio.file.Files.writeString(tmp.resolve("secret"), "the platform's secret");
        java.nio.file.Path tree = java.nio.file.Files.createDirectories(tmp.resolve("tree"));
        java.nio.file.Files.createSymbolicLink(tree.resolve("link"), outside);
        java.nio.file.Files.createSymbolicLink(tree.resolve("zero"), java.nio.file.Path.of("/dev/zero"));

        var untrusted = Inputs.find(tree, List.of("**"), java.util.Set.of(), false);
        var hashes = TaskKey.hashInputs(untrusted, InputHashes.none());

        assertThat(untrusted.get("link").linkTarget()).isEqualTo(outside.toString());
        assertThat(hashes.get("link")).isEqualTo("symlink:" + Hashing.sha256(outside.toString()))
                .isNotEqualTo(Hashing.sha256("the platform's secret".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        assertThat(hashes).as("a link to a device is never read (it would never end)").containsKey("zero");
        // A user's own tree (the CLI) still counts a link by the content it points at.
        assertThat(TaskKey.hashInputs(Inputs.find(tree, List.of("link"), java.util.Set.of()), InputHashes.none()).get("link"))
                .isEqualTo(Hashing.sha256("the platform's secret".getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    }
}
