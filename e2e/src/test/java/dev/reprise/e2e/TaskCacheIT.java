package dev.reprise.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The task-output cache across machines: one checkout compiles and stores its outputs in the
 * running artifact service; a second checkout with an empty local cache restores them from there.
 * A remote that cannot be reached is a miss, never a failed build.
 */
class TaskCacheIT {

    private static final Path JAR = Services.ROOT.resolve("cli/target/reprise-cli.jar");

    @TempDir
    Path temp;

    @Test
    void aSecondMachineRestoresTheOutputsFromTheArtifactService() throws Exception {
        String stamp = String.valueOf(System.nanoTime());
        Path first = checkout("first", stamp);
        Path second = checkout("second", stamp);
        Map<String, String> env = Map.of("REPRISE_REMOTE_URL", "http://127.0.0.1:" + Services.PORTS.get("artifact"),
                "REPRISE_TOKEN", Services.token());
        String[] task = {"run", "--inputs", "src/**", "--outputs", "classes/**", "--", "sh", "-c",
                javac() + " -d classes src/demo/*.java && echo compiled " + stamp};

        Services.Run built = cli(first, temp.resolve("cache-1"), env, task);
        assertThat(built.exitCode()).as(built.output()).isZero();
        assertThat(built.output()).contains("compiled " + stamp).doesNotContain("hit");

        Services.Run restored = cli(second, temp.resolve("cache-2"), env, task);
        assertThat(restored.exitCode()).as(restored.output()).isZero();
        assertThat(restored.output()).contains("compiled " + stamp).contains("remote hit");
        assertThat(Files.readAllBytes(second.resolve("classes/demo/Hello.class")))
                .isEqualTo(Files.readAllBytes(first.resolve("classes/demo/Hello.class")));
    }

    @Test
    void theLauncherTrainsItsClassArchiveOnceAndLaterRunsStartOnIt() throws Exception {
        Path project = checkout("launcher", String.valueOf(System.nanoTime()));
        Path launcher = Services.ROOT.resolve("cli/reprise-cache");
        Map<String, String> env = new java.util.HashMap<>(Map.of("XDG_CACHE_HOME", temp.resolve("xdg").toString(),
                "REPRISE_CACHE_DIR", temp.resolve("cache-launcher").toString()));
        String[] task = {launcher.toString(), "run", "--no-remote", "--inputs", "src/**", "--outputs", "classes/**", "--", "sh", "-c",
                javac() + " -d classes src/demo/*.java"};

        Services.Run first = Services.run(project, env, Duration.ofMinutes(2), task);
        assertThat(first.exitCode()).as(first.output()).isZero();
        assertThat(first.output()).doesNotContain("hit");
        Path cds = temp.resolve("xdg/reprise/cds");
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (archives(cds).isEmpty() && System.nanoTime() < deadline) {
            Thread.sleep(100);
        }
        assertThat(archives(cds)).as("one archive for this jar and Java").hasSize(1);

        // The CLI's own classes now come from the archive (the JVM says where each class came from).
        env.put("JAVA_TOOL_OPTIONS", "-Xlog:class+load=info");
        Files.walk(project.resolve("classes")).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        Services.Run hit = Services.run(project, env, Duration.ofMinutes(2), task);
        assertThat(hit.exitCode()).as(hit.output()).isZero();
        assertThat(hit.output()).contains("local hit").containsPattern("dev\\.reprise\\.cli\\.Main source: shared objects file");
        assertThat(project.resolve("classes/demo/Hello.class")).exists();
        assertThat(archives(cds)).hasSize(1);
    }

    private static List<Path> archives(Path dir) throws java.io.IOException {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (var files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().endsWith(".jsa")).toList();
        }
    }

    @Test
    void anUnreachableRemoteIsAMissNotAFailure() throws Exception {
        Path project = checkout("offline", String.valueOf(System.nanoTime()));
        Map<String, String> env = Map.of("REPRISE_REMOTE_URL", "http://127.0.0.1:9", "REPRISE_TOKEN", Services.token());
        Services.Run run = cli(project, temp.resolve("cache-offline"), env, "run", "--outputs", "out.txt", "--", "sh", "-c", "echo done > out.txt");
        assertThat(run.exitCode()).as(run.output()).isZero();
        assertThat(run.output()).contains("remote cache unavailable");
        assertThat(Files.readString(project.resolve("out.txt"))).isEqualTo("done\n");
    }

    @Test
    void theRunnerSkipsABuildStepWhoseTreeItAlreadyBuiltAndSaysSo() throws Exception {
        // Two repositories, one tree: different replay keys (both builds are live), one task key.
        // The output names the build that ran the step (sandboxed builds leave no trace on the host to count).
        String script = "echo \"compiled " + System.nanoTime() + " in $REPRISE_BUILD_ID\"; echo 'note: done' >&2";
        String first = dev.reprise.testing.TestGitRepo.withBuildScript(script).url();
        String second = dev.reprise.testing.TestGitRepo.withBuildScript(script).url();

        Builds.Recorded a = Builds.recorded(first, "./build.sh", Map.of());
        Builds.Recorded b = Builds.recorded(second, "./build.sh", Map.of());

        assertThat(b.cacheKey()).isNotEqualTo(a.cacheKey());
        assertThat(stepCache(a.messages())).contains("\"result\":\"miss\"");
        assertThat(stepCache(b.messages())).contains("\"result\":\"hit\"").contains("\"source\":\"local\"");
        assertThat(outputs(b.messages())).as("the replayed step output").isEqualTo(outputs(a.messages())).hasSize(2);
        assertThat(String.join("", outputs(b.messages()))).as("the second build's step did not run: its output is the first's")
                .contains(" in " + a.buildId()).doesNotContain(b.buildId());
        assertThat(Builds.awaitFinal(b.buildId()).path("status").asText()).isEqualTo("SUCCESS");
    }

    private static String stepCache(List<String> messages) {
        return messages.stream().filter(m -> m.contains("\"type\":\"dev.reprise.build.step-cache.v1\"")).findFirst().orElseThrow();
    }

    /** The build's output messages' data (stream and chunk), without ids and times. */
    private static List<String> outputs(List<String> messages) throws Exception {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        List<String> outputs = new ArrayList<>();
        for (String message : messages) {
            var node = json.readTree(message);
            if (node.path("type").asText().equals("dev.reprise.build.output.v1")) {
                outputs.add(node.path("data").path("stream").asText() + ":" + node.path("data").path("chunk").asText());
            }
        }
        return outputs;
    }

    private Path checkout(String name, String stamp) throws Exception {
        Path project = Files.createDirectories(temp.resolve(name).resolve("src/demo"));
        Files.writeString(project.resolve("Hello.java"), "package demo; public class Hello { static final String S = \"" + stamp + "\"; }\n");
        return temp.resolve(name);
    }

    private static String javac() {
        return Path.of(System.getProperty("java.home"), "bin", "javac").toString();
    }

    /** The CLI from its jar in {@code dir}, with its own local cache. */
    static Services.Run cli(Path dir, Path cache, Map<String, String> env, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar", JAR.toString()));
        command.add(args[0]);
        command.addAll(List.of("--cache-dir", cache.toString()));
        command.addAll(List.of(args).subList(1, args.length));
        return Services.run(dir, env, Duration.ofMinutes(2), command.toArray(String[]::new));
    }
}
