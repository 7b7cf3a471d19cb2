package dev.reprise.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line on a real task: javac compiling a small project, twice. */
class MainTest {

    @TempDir
    Path temp;
    private Path project;
    private Path cacheDir;

    @BeforeEach
    void project() throws Exception {
        project = Files.createDirectories(temp.resolve("project"));
        Files.createDirectories(project.resolve("src/demo"));
        Files.writeString(project.resolve("src/demo/Hello.java"), "package demo; public class Hello { public static void main(String[] a) { System.out.println(\"hi\"); } }\n");
        Files.writeString(project.resolve("src/demo/Util.java"), "package demo; class Util { @Deprecated static int one() { return 1; } }\n");
        cacheDir = temp.resolve("cache");
        Main.workspace = project;
        Map<String, String> env = new HashMap<>(System.getenv());
        env.remove("REPRISE_REMOTE_URL");
        Main.environment = env;
    }

    @AfterEach
    void reset() {
        Main.workspace = Path.of("").toAbsolutePath();
        Main.environment = System.getenv();
    }

    @Test
    void aSecondCompileRestoresTheClassesByteForByteAndReplaysTheLog() throws Exception {
        String javac = Path.of(System.getProperty("java.home"), "bin", "javac").toString();
        String script = javac + " -Xlint:all -d classes src/demo/*.java && echo compiled && echo 'note: on stderr' >&2";
        String[] run = {"run", "--cache-dir", cacheDir.toString(), "--inputs", "src/**", "--outputs", "classes/**", "--", "sh", "-c", script};

        Ran first = execute(run);
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(first.out()).contains("compiled");
        assertThat(first.err()).contains("note: on stderr").doesNotContain("hit");
        byte[] hello = Files.readAllBytes(project.resolve("classes/demo/Hello.class"));
        deleteTree(project.resolve("classes"));

        Ran second = execute(run);
        assertThat(second.exit()).isZero();
        assertThat(second.out()).isEqualTo(first.out());
        assertThat(second.err()).startsWith(first.err()).contains("local hit");
        assertThat(Files.readAllBytes(project.resolve("classes/demo/Hello.class"))).isEqualTo(hello);
        assertThat(Files.exists(project.resolve("classes/demo/Util.class"))).isTrue();

        // A changed input is a miss.
        Files.writeString(project.resolve("src/demo/Util.java"), "package demo; class Util { static int two() { return 2; } }\n");
        Ran third = execute(run);
        assertThat(third.err()).doesNotContain("hit");

        Ran stats = execute("cache", "stats", "--cache-dir", cacheDir.toString());
        assertThat(stats.out()).contains("entries:      2").contains("hits:         1").contains("misses:       2");
    }

    @Test
    void aFailureKeepsItsExitCodeAndIsCachedOnlyWhenAsked() throws Exception {
        String[] failing = {"run", "--cache-dir", cacheDir.toString(), "--", "sh", "-c", "echo broken >&2; exit 7"};
        assertThat(execute(failing).exit()).isEqualTo(7);
        assertThat(execute(failing).err()).doesNotContain("hit");

        String[] cached = {"run", "--cache-dir", cacheDir.toString(), "--cache-failures", "--", "sh", "-c", "echo broken >&2; exit 7"};
        assertThat(execute(cached).exit()).isEqualTo(7);
        Ran hit = execute(cached);
        assertThat(hit.exit()).isEqualTo(7);
        assertThat(hit.err()).contains("broken").contains("local hit");
    }

    @Test
    void withoutDeclaredOutputsWhatTheCommandCreatesIsCached() throws Exception {
        String[] run = {"run", "--cache-dir", cacheDir.toString(), "--inputs", "src/**", "--", "sh", "-c", "mkdir -p gen/empty && echo x > gen/out.txt"};
        assertThat(execute(run).exit()).isZero();
        deleteTree(project.resolve("gen"));
        assertThat(execute(run).err()).contains("local hit");
        assertThat(Files.readString(project.resolve("gen/out.txt"))).isEqualTo("x\n");
        assertThat(Files.isDirectory(project.resolve("gen/empty"))).isTrue();
    }

    @Test
    void verifyReportsAndRemovesADamagedEntry() throws Exception {
        String[] run = {"run", "--cache-dir", cacheDir.toString(), "--outputs", "o.txt", "--", "sh", "-c", "echo data > o.txt"};
        execute(run);
        Path stored;
        try (Stream<Path> files = Files.walk(cacheDir.resolve("entries"))) {
            stored = files.filter(f -> f.getParent().getFileName().toString().equals("files")).findFirst().orElseThrow();
        }
        Files.writeString(stored, "dat4\n");
        Ran verify = execute("cache", "verify", "--cache-dir", cacheDir.toString());
        assertThat(verify.exit()).isEqualTo(1);
        assertThat(verify.out()).contains("corrupt, removed").contains("1 corrupt entries removed");
        assertThat(execute("cache", "verify", "--cache-dir", cacheDir.toString()).exit()).isZero();
    }

    @Test
    void badUsageAndBadSettingsSayWhatToFix() throws Exception {
        assertThat(execute("run", "--cache-dir", cacheDir.toString()).exit()).isEqualTo(2);
        assertThat(execute("--help").out()).contains("reprise-cache run --inputs");
        Files.writeString(project.resolve(".reprise.json"), "{\"cacheDirectory\": \"x\"}");
        Ran bad = execute("cache", "stats");
        assertThat(bad.exit()).isEqualTo(1);
        assertThat(bad.err()).contains(".reprise.json is not valid").contains("cacheDir");
        Files.writeString(project.resolve(".reprise.json"), "{\"cacheDir\": \"" + cacheDir + "\", \"maxSize\": \"1KB\"}");
        assertThat(execute("cache", "prune").exit()).isZero();
        assertThat(execute("cache", "prune", "--max-size", "lots").err()).contains("is not like 10GB");
    }

    @Test
    void depsShowsTheDependencyCacheARunnerKeepsAndItsKeyFollowsTheLockfileNotTheSources() throws Exception {
        Files.writeString(project.resolve("pom.xml"), "<project>one</project>\n");
        String[] deps = {"deps", "--repository", "https://GitHub.com/org/app.git", "--command", "mvn -B verify", project.toString()};
        Ran first = execute(deps);
        assertThat(first.exit()).as(first.err()).isZero();
        assertThat(first.out()).contains("repository:     https://github.com/org/app").contains("ecosystems:     maven")
                .contains("directories:    .m2/repository").contains("lockfile:       pom.xml").containsPattern("toolchain: .*java \\d+")
                .containsPattern("key:            deps-[0-9a-f]{16}-[0-9a-f]{64}");

        Files.writeString(project.resolve("src/demo/Util.java"), "package demo; class Util { static int three() { return 3; } }\n");
        assertThat(line(execute(deps).out(), "key:")).as("sources are not in the key").isEqualTo(line(first.out(), "key:"));
        Files.writeString(project.resolve("pom.xml"), "<project>two</project>\n");
        Ran changed = execute(deps);
        assertThat(line(changed.out(), "key:")).isNotEqualTo(line(first.out(), "key:"));
        assertThat(line(changed.out(), "restore prefix:")).as("same repository and toolchain").isEqualTo(line(first.out(), "restore prefix:"));

        Files.delete(project.resolve("pom.xml"));
        Ran none = execute(deps);
        assertThat(none.exit()).isEqualTo(1);
        assertThat(none.err()).contains("no lockfile or build file");
    }

    private static String line(String out, String prefix) {
        return out.lines().filter(l -> l.startsWith(prefix)).findFirst().orElseThrow();
    }

    record Ran(int exit, String out, String err) {
    }

    private static Ran execute(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int exit = Main.execute(args, new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Ran(exit, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static void deleteTree(Path dir) throws Exception {
        try (Stream<Path> all = Files.walk(dir)) {
            all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
