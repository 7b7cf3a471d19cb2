package dev.reprise.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reprise.e2e.Services.Run;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GitHub Actions' cache toolkit, unmodified ({@code @actions/cache} 6.3.0 from the npm registry,
 * the library the actions/cache action is built on), against the running artifact service: a
 * workflow only points ACTIONS_CACHE_URL (v1, what every GHES-style setup uses) or
 * ACTIONS_RESULTS_URL (v2) at Reprise and passes a Reprise token as ACTIONS_RUNTIME_TOKEN.
 */
class ActionsCacheIT {

    private static final String TOOLKIT = "@actions/cache@6.3.0";

    @TempDir
    static Path toolkit;
    @TempDir
    Path temp;

    @BeforeAll
    static void installTheToolkit() throws Exception {
        Files.writeString(toolkit.resolve("package.json"), "{\"name\": \"reprise-actions-cache-it\", \"private\": true, \"type\": \"module\"}");
        Run install = Services.run(toolkit, Map.of(), Duration.ofMinutes(4), "npm", "install", "--no-audit", "--no-fund", "--loglevel=error", TOOLKIT);
        assertThat(install.exitCode()).as(install.output()).isZero();
        try (var script = ActionsCacheIT.class.getResourceAsStream("/actions-cache/cache.mjs")) {
            Files.copy(script, toolkit.resolve("cache.mjs"));
        }
    }

    @Test
    void v1SavesAndRestoresThroughTheToolkitAsOnASelfHostedRunner() throws Exception {
        roundTrip(v1(Services.token()), 20 << 20);
    }

    @Test
    void v2SavesABlockUploadAndRestoresItThroughTheToolkit() throws Exception {
        // over 128 MiB: the toolkit's Azure SDK uploads blocks and then the block list
        roundTrip(v2(Services.token()), 140 << 20);
    }

    @Test
    void anotherTenantsTokenNeitherSeesNorBlocksTheEntry() throws Exception {
        String prefix = "isolated-" + UUID.randomUUID() + "-";
        Path workspace = workspace("owner", 1_000);
        assertThat(Long.parseLong(toolkit(v1(Services.token()), workspace, "save", prefix + "a", "data"))).isPositive();

        String stranger = Services.newToken(Services.newTenant("actions", "Actions other"), "read-write");
        Path elsewhere = Files.createDirectories(temp.resolve("stranger"));
        assertThat(toolkit(v1(stranger), elsewhere, "restore", prefix + "a", prefix, "data")).as("a miss for another tenant").isEmpty();
        assertThat(elsewhere.resolve("data")).doesNotExist();
        // the stranger's own save of the same key is its own entry, not a conflict with the owner's
        Path theirs = workspace("stranger-save", 10);
        assertThat(Long.parseLong(toolkit(v1(stranger), theirs, "save", prefix + "a", "data"))).isPositive();
        // a wrong token saves nothing and restores nothing, and the job goes on (-1, a miss)
        Map<String, String> wrong = v1("rpr_" + "x".repeat(43));
        assertThat(toolkit(wrong, workspace("wrong", 10), "save", prefix + "b", "data")).isEqualTo("-1");
        assertThat(toolkit(wrong, Files.createDirectories(temp.resolve("wrong-restore")), "restore", prefix + "a", "", "data")).isEmpty();
    }

    @Test
    void theCliAndTheToolkitRestoreEachOthersSaves() throws Exception {
        String prefix = "cli-" + UUID.randomUUID() + "-";
        Path saved = workspace("cli-saved", 1 << 20);
        Files.createSymbolicLink(saved.resolve("data/link"), Path.of("nested/hello.txt"));
        Files.setPosixFilePermissions(saved.resolve("data/nested/hello.txt"), java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-x---"));
        Run save = cli(saved, "cache", "save", "--key", prefix + "cli", "--path", "data");
        assertThat(save.exitCode()).as(save.output()).isZero();
        assertThat(save.output()).contains("saved " + prefix + "cli");
        assertThat(cli(saved, "cache", "save", "--key", prefix + "cli", "--path", "data").output()).contains("already exists");

        // the toolkit restores what the CLI saved: same version, same archive format
        Path byToolkit = Files.createDirectories(temp.resolve("by-toolkit"));
        assertThat(toolkit(v1(Services.token()), byToolkit, "restore", prefix + "cli", "", "data")).isEqualTo(prefix + "cli");
        assertThat(Files.mismatch(saved.resolve("data/blob.bin"), byToolkit.resolve("data/blob.bin"))).isEqualTo(-1L);

        // the CLI: an exact hit keeps modes and symlinks; a restore-key match is not a cache hit, and restores
        Path byCli = Files.createDirectories(temp.resolve("by-cli"));
        Run exact = cli(byCli, "cache", "restore", "--key", prefix + "cli", "--path", "data");
        assertThat(exact.output()).contains("cache-hit=true").contains("cache-matched-key=" + prefix + "cli");
        assertThat(Files.readSymbolicLink(byCli.resolve("data/link"))).isEqualTo(Path.of("nested/hello.txt"));
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(byCli.resolve("data/nested/hello.txt"))))
                .isEqualTo("rwxr-x---");
        assertThat(Files.mismatch(saved.resolve("data/blob.bin"), byCli.resolve("data/blob.bin"))).isEqualTo(-1L);
        Path byPrefix = Files.createDirectories(temp.resolve("by-prefix"));
        Path outputs = temp.resolve("github-output");
        Map<String, String> withOutput = new HashMap<>(cliEnv(byPrefix));
        withOutput.put("GITHUB_OUTPUT", outputs.toString());
        Run prefixed = Services.run(byPrefix, withOutput, Duration.ofMinutes(2), cliCommand("cache", "restore", "--key", prefix + "lock-new",
                "--restore-keys", prefix, "--path", "data"));
        assertThat(prefixed.output()).contains("cache-hit=false").contains("cache-matched-key=" + prefix + "cli");
        assertThat(Files.readString(outputs)).contains("cache-hit=false\n").contains("cache-primary-key=" + prefix + "lock-new\n");
        assertThat(byPrefix.resolve("data/nested/hello.txt")).exists();

        // the CLI restores what the toolkit saved
        Path toolkitSaved = workspace("toolkit-saved", 4_000);
        assertThat(Long.parseLong(toolkit(v1(Services.token()), toolkitSaved, "save", prefix + "toolkit", "data"))).isPositive();
        Path fromToolkit = Files.createDirectories(temp.resolve("from-toolkit"));
        assertThat(cli(fromToolkit, "cache", "restore", "--key", prefix + "toolkit", "--path", "data").output()).contains("cache-hit=true");
        assertThat(Files.mismatch(toolkitSaved.resolve("data/blob.bin"), fromToolkit.resolve("data/blob.bin"))).isEqualTo(-1L);

        // a save in a workflow records where it came from (the runner's GITHUB_* variables)
        Map<String, String> runner = new HashMap<>(cliEnv(saved));
        runner.putAll(Map.of("GITHUB_SERVER_URL", "https://github.example.com", "GITHUB_REPOSITORY", "team/app", "GITHUB_SHA",
                "0123456789abcdef0123456789abcdef01234567", "GITHUB_REF_NAME", "feature/x", "GITHUB_RUN_ID", "4242", "GITHUB_RUN_ATTEMPT", "2"));
        Run provenanced = Services.run(saved, runner, Duration.ofMinutes(2), cliCommand("cache", "save", "--key", prefix + "prov", "--path", "data"));
        assertThat(provenanced.output()).contains("saved " + prefix + "prov");
        String version = Services.sha256Hex("data|" + (Services.run(saved, Map.of(), Duration.ofSeconds(10), "sh", "-c", "command -v zstd")
                .exitCode() == 0 ? "zstd-without-long" : "gzip") + "|1.0");
        var entry = Services.getAuthorized("artifact", "/api/v1/artifacts/entries?protocol=actions&key=" + prefix + "prov&version=" + version).body();
        assertThat(entry.path("branch").asText()).isEqualTo("feature/x");
        assertThat(entry.path("provenance").path("repository").asText()).endsWith("github.example.com/team/app");
        assertThat(entry.path("provenance").path("commit").asText()).isEqualTo("0123456789abcdef0123456789abcdef01234567");
        assertThat(entry.path("provenance").path("buildId").asText()).isEqualTo("github-run-4242-2");

        // a miss: exit 0, or 1 with --fail-on-miss; --lookup-only writes nothing
        Path missed = Files.createDirectories(temp.resolve("missed"));
        Run miss = cli(missed, "cache", "restore", "--key", prefix + "never", "--path", "data");
        assertThat(miss.exitCode()).isZero();
        assertThat(miss.output()).contains("cache-hit=false");
        assertThat(cli(missed, "cache", "restore", "--key", prefix + "never", "--path", "data", "--fail-on-miss").exitCode()).isEqualTo(1);
        assertThat(cli(missed, "cache", "restore", "--key", prefix + "cli", "--path", "data", "--lookup-only").output()).contains("cache-hit=true");
        assertThat(missed.resolve("data")).doesNotExist();
    }

    /** The repository's composite actions, their steps run as a runner runs them (inputs as INPUT_*, outputs in $GITHUB_OUTPUT). */
    @Test
    void theCompositeActionsSaveAndRestoreWithCacheHitAsOutput() throws Exception {
        String key = "composite-" + UUID.randomUUID();
        Path saved = workspace("composite-saved", 2_000);
        Run save = action("save-cache", saved, Map.of("INPUT_KEY", key, "INPUT_PATH", "data\n"), temp.resolve("save-output"));
        assertThat(save.exitCode()).as(save.output()).isZero();
        Path restored = Files.createDirectories(temp.resolve("composite-restored"));
        Path outputs = temp.resolve("restore-output");
        Run restore = action("restore-cache", restored, Map.of("INPUT_KEY", key + "-next", "INPUT_RESTORE_KEYS", "nothing-\n" + "composite-\n",
                "INPUT_PATH", "data", "INPUT_FAIL", "false", "INPUT_LOOKUP", "false"), outputs);
        assertThat(restore.exitCode()).as(restore.output()).isZero();
        assertThat(Files.readString(outputs)).contains("cache-hit=false").contains("cache-matched-key=composite-");
        assertThat(Files.mismatch(saved.resolve("data/blob.bin"), restored.resolve("data/blob.bin"))).isEqualTo(-1L);
        Run failing = action("restore-cache", Files.createDirectories(temp.resolve("composite-miss")), Map.of("INPUT_KEY", "never-" + key,
                "INPUT_RESTORE_KEYS", "", "INPUT_PATH", "data", "INPUT_FAIL", "true", "INPUT_LOOKUP", "false"), temp.resolve("miss-output"));
        assertThat(failing.exitCode()).as("fail-on-cache-miss").isEqualTo(1);
    }

    private Run action(String name, Path workspace, Map<String, String> inputs, Path outputs) throws Exception {
        var yaml = new com.fasterxml.jackson.databind.ObjectMapper(new com.fasterxml.jackson.dataformat.yaml.YAMLFactory())
                .readTree(Services.ROOT.resolve("actions/" + name + "/action.yml").toFile());
        assertThat(yaml.path("runs").path("using").asText()).isEqualTo("composite");
        String script = yaml.path("runs").path("steps").get(0).path("run").asText();
        Map<String, String> env = new HashMap<>(cliEnv(workspace));
        env.putAll(inputs);
        env.put("GITHUB_OUTPUT", outputs.toString());
        env.put("REPRISE_CLI_JAR", Services.ROOT.resolve("cli/target/reprise-cli.jar").toString());
        return Services.run(workspace, env, Duration.ofMinutes(2), "bash", "-c", script);
    }

    private Run cli(Path workspace, String... args) throws Exception {
        return Services.run(workspace, cliEnv(workspace), Duration.ofMinutes(2), cliCommand(args));
    }

    private static Map<String, String> cliEnv(Path workspace) throws IOException {
        return Map.of("REPRISE_REMOTE_URL", "http://127.0.0.1:" + Services.PORTS.get("artifact"), "REPRISE_TOKEN", Services.token(),
                "GITHUB_WORKSPACE", workspace.toString(), "GITHUB_OUTPUT", "", "GITHUB_REF_NAME", "", "GITHUB_HEAD_REF", "");
    }

    private static String[] cliCommand(String... args) {
        List<String> command = new java.util.ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-jar",
                Services.ROOT.resolve("cli/target/reprise-cli.jar").toString()));
        command.addAll(List.of(args));
        return command.toArray(String[]::new);
    }

    /** Saves a workspace's data/, restores it into an empty workspace by a restore key, byte for byte; a second save of the key is refused (-1). */
    private void roundTrip(Map<String, String> env, int bytes) throws Exception {
        String prefix = "deps-" + UUID.randomUUID() + "-";
        Path saved = workspace("saved", bytes);
        // several paths, as setup-node and friends pass them; a symlink among the files
        Files.createSymbolicLink(saved.resolve("data/link"), Path.of("nested/hello.txt"));
        Files.createDirectories(saved.resolve("other"));
        Files.writeString(saved.resolve("other/second.txt"), "second path\n");
        String id = toolkit(env, saved, "save", prefix + "lock1", "data", "other");
        assertThat(Long.parseLong(id)).as("the cache id").isPositive();
        assertThat(toolkit(env, saved, "save", prefix + "lock1", "data", "other")).as("entries are immutable").isEqualTo("-1");

        Path looked = Files.createDirectories(temp.resolve("looked-" + UUID.randomUUID()));
        assertThat(toolkit(env, looked, "lookup", prefix + "lock1", "", "data", "other")).as("lookupOnly").isEqualTo(prefix + "lock1");
        assertThat(looked.resolve("data")).as("lookupOnly downloads nothing").doesNotExist();

        Path restored = Files.createDirectories(temp.resolve("restored-" + UUID.randomUUID()));
        assertThat(toolkit(env, restored, "restore", prefix + "lock2", prefix, "data", "other")).as("matched by the restore key")
                .isEqualTo(prefix + "lock1");
        for (String file : new String[] {"data/blob.bin", "data/nested/hello.txt", "other/second.txt"}) {
            assertThat(Files.mismatch(saved.resolve(file), restored.resolve(file))).as(file).isEqualTo(-1L);
        }
        assertThat(Files.readSymbolicLink(restored.resolve("data/link"))).isEqualTo(Path.of("nested/hello.txt"));
        Path exact = Files.createDirectories(temp.resolve("exact-" + UUID.randomUUID()));
        assertThat(toolkit(env, exact, "restore", prefix + "lock1", "", "data", "other")).as("an exact hit").isEqualTo(prefix + "lock1");
        Path miss = Files.createDirectories(temp.resolve("miss-" + UUID.randomUUID()));
        assertThat(toolkit(env, miss, "restore", "never-saved-" + UUID.randomUUID(), "", "data", "other")).as("a miss").isEmpty();
        // the newest of several prefix matches wins
        Path newer = workspace("newer", 100);
        Files.createDirectories(newer.resolve("other"));
        assertThat(Long.parseLong(toolkit(env, newer, "save", prefix + "lock3", "data", "other"))).isPositive();
        Path newest = Files.createDirectories(temp.resolve("newest-" + UUID.randomUUID()));
        assertThat(toolkit(env, newest, "restore", prefix + "lock9", prefix, "data", "other")).isEqualTo(prefix + "lock3");
    }

    private Path workspace(String name, int bytes) throws IOException {
        Path workspace = Files.createDirectories(temp.resolve(name + "-" + UUID.randomUUID()));
        Files.createDirectories(workspace.resolve("data/nested"));
        Files.writeString(workspace.resolve("data/nested/hello.txt"), "hello from " + name + "\n");
        Random random = new Random();
        byte[] chunk = new byte[1 << 20];
        try (OutputStream out = Files.newOutputStream(workspace.resolve("data/blob.bin"))) {
            for (int left = bytes; left > 0; left -= chunk.length) {
                random.nextBytes(chunk);
                out.write(chunk, 0, Math.min(left, chunk.length));
            }
        }
        return workspace;
    }

    /** Runs the toolkit; its RESULT line's value. */
    private String toolkit(Map<String, String> env, Path workspace, String... args) throws Exception {
        Map<String, String> all = new HashMap<>(env);
        all.put("GITHUB_WORKSPACE", workspace.toString());
        all.put("RUNNER_TEMP", Files.createDirectories(temp.resolve("runner-temp")).toString());
        String[] command = new String[args.length + 2];
        command[0] = "node";
        command[1] = toolkit.resolve("cache.mjs").toString();
        System.arraycopy(args, 0, command, 2, args.length);
        Run run = Services.run(toolkit, all, Duration.ofMinutes(3), command);
        assertThat(run.exitCode()).as(run.output()).isZero();
        return run.output().lines().filter(l -> l.startsWith("RESULT ")).reduce((a, b) -> b).map(l -> l.substring(7).strip())
                .orElseThrow(() -> new AssertionError("no RESULT line:\n" + run.output()));
    }

    /** v1: the toolkit's choice whenever GITHUB_SERVER_URL is not github.com. */
    private static Map<String, String> v1(String token) {
        return Map.of("ACTIONS_CACHE_URL", "http://127.0.0.1:" + Services.PORTS.get("artifact") + "/", "ACTIONS_RUNTIME_TOKEN", token,
                "GITHUB_SERVER_URL", "https://ghes.example.com", "ACTIONS_RESULTS_URL", "", "ACTIONS_CACHE_SERVICE_V2", "");
    }

    /** v2: github.com's service, chosen with ACTIONS_CACHE_SERVICE_V2. */
    private static Map<String, String> v2(String token) {
        return Map.of("ACTIONS_RESULTS_URL", "http://127.0.0.1:" + Services.PORTS.get("artifact") + "/", "ACTIONS_RUNTIME_TOKEN", token,
                "ACTIONS_CACHE_SERVICE_V2", "true", "GITHUB_SERVER_URL", "https://github.com", "ACTIONS_CACHE_URL", "");
    }
}
