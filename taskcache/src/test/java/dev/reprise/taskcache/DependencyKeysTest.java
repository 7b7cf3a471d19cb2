package dev.reprise.taskcache;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DependencyKeysTest {

    @TempDir
    Path repo;

    private static DependencyKeys.Inputs inputs(String repository, Map<String, String> lockfiles, Map<String, String> env) {
        return new DependencyKeys.Inputs(repository, lockfiles, Map.of("node", "20.11.1", "npm", "10.2.4"), env,
                Set.of("NODE_ENV"), "a".repeat(64));
    }

    @Test
    void theCanonicalFormAndOneKeyArePinned() {
        DependencyKeys.Inputs in = inputs("https://GitHub.com/org/app.git",
                Map.of("web/package-lock.json", "1".repeat(64), "api/go.sum", "2".repeat(64)),
                Map.of("NODE_ENV", "production", "HOME", "/root"));

        assertThat(DependencyKeys.canonical(in)).isEqualTo("{\"v\":1,\"repository\":\"https://github.com/org/app\","
                + "\"lockfiles\":[{\"path\":\"api/go.sum\",\"sha256\":\"" + "2".repeat(64) + "\"},"
                + "{\"path\":\"web/package-lock.json\",\"sha256\":\"" + "1".repeat(64) + "\"}],"
                + "\"toolchains\":{\"node\":\"20.11.1\",\"npm\":\"10.2.4\"},\"env\":{\"NODE_ENV\":\"production\"},"
                + "\"config\":\"" + "a".repeat(64) + "\"}");
        assertThat(DependencyKeys.key(in)).isEqualTo(DependencyKeys.sha256(DependencyKeys.canonical(in).getBytes(StandardCharsets.UTF_8)))
                .isEqualTo("58320a8964f22bfecba52a0a563bd4ca88b553e8e2a677db62f3f152d45c8aaa");
    }

    @Test
    void orderAndSpellingDoNotChangeTheKeyButEveryInputDoes() {
        Map<String, String> one = new LinkedHashMap<>();
        one.put("b/yarn.lock", "1".repeat(64));
        one.put("a/Cargo.lock", "2".repeat(64));
        Map<String, String> other = new LinkedHashMap<>();
        other.put("a/Cargo.lock", "2".repeat(64));
        other.put("b/yarn.lock", "1".repeat(64));
        String key = DependencyKeys.key(inputs("https://github.com/org/app", one, Map.of()));

        assertThat(DependencyKeys.key(inputs("https://github.com/org/app.git/", other, Map.of("PATH", "/x")))).isEqualTo(key);
        assertThat(DependencyKeys.key(inputs("https://github.com/org/app", Map.of("a/Cargo.lock", "2".repeat(64)), Map.of())))
                .as("a lockfile less").isNotEqualTo(key);
        assertThat(DependencyKeys.key(inputs("https://github.com/org/app", one, Map.of("NODE_ENV", "test"))))
                .as("an allow-listed variable").isNotEqualTo(key);
        assertThat(DependencyKeys.key(inputs("https://github.com/org/other", one, Map.of()))).isNotEqualTo(key);
        assertThat(DependencyKeys.key(new DependencyKeys.Inputs("https://github.com/org/app", one, Map.of("node", "22.0.0"),
                Map.of(), Set.of(), "a".repeat(64)))).as("a toolchain version").isNotEqualTo(key);
    }

    @Test
    void lockfilesAreFoundAcrossEcosystemsButNotInDependencyOrBuildDirectories() throws Exception {
        write("package-lock.json", "{}\n");
        write("services/api/go.sum", "x v1 h1:abc\n");
        write("services/api/requirements.txt", "flask==3.0.0\n");
        write("gradle/dependency-locks/compileClasspath.lockfile", "a:b:1\n");
        write("app/gradle.lockfile", "a:b:1\n");
        write("node_modules/left-pad/package-lock.json", "{}\n");
        write(".git/yarn.lock", "x\n");
        write("target/Cargo.lock", "x\n");
        write("README.md", "not a lockfile\n");

        assertThat(DependencyKeys.detect(repo)).containsOnlyKeys("app/gradle.lockfile", "gradle/dependency-locks/compileClasspath.lockfile",
                "package-lock.json", "services/api/go.sum", "services/api/requirements.txt");
        assertThat(DependencyKeys.detect(repo).get("package-lock.json")).isEqualTo(DependencyKeys.sha256("{}\n".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void windowsLineEndsHashLikeUnixOnes() {
        assertThat(DependencyKeys.lockfileHash("a==1\r\nb==2\r\n".getBytes(StandardCharsets.UTF_8)))
                .isEqualTo(DependencyKeys.lockfileHash("a==1\nb==2\n".getBytes(StandardCharsets.UTF_8)))
                .isNotEqualTo(DependencyKeys.lockfileHash("a==1\nb==3\n".getBytes(StandardCharsets.UTF_8)));
    }

    private void write(String path, String content) throws Exception {
        Path file = repo.resolve(path);
        Files.createDirectories(file.getParent());
        Files.writeString(file, content);
    }
}
