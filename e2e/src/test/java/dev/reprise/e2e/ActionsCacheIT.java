package dev.reprise.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reprise.e2e.Services.Run;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
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
        roundTrip(v1(Services.token()), 2 << 20);
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

    /** Saves a workspace's data/, restores it into an empty workspace by a restore key, byte for byte; a second save of the key is refused (-1). */
    private void roundTrip(Map<String, String> env, int bytes) throws Exception {
        String prefix = "deps-" + UUID.randomUUID() + "-";
        Path saved = workspace("saved", bytes);
        String id = toolkit(env, saved, "save", prefix + "lock1", "data");
        assertThat(Long.parseLong(id)).as("the cache id").isPositive();
        assertThat(toolkit(env, saved, "save", prefix + "lock1", "data")).as("entries are immutable").isEqualTo("-1");

        Path restored = Files.createDirectories(temp.resolve("restored-" + UUID.randomUUID()));
        assertThat(toolkit(env, restored, "restore", prefix + "lock2", prefix, "data")).as("matched by the restore key").isEqualTo(prefix + "lock1");
        for (String file : new String[] {"data/blob.bin", "data/nested/hello.txt"}) {
            assertThat(Files.mismatch(saved.resolve(file), restored.resolve(file))).as(file).isEqualTo(-1L);
        }
        Path exact = Files.createDirectories(temp.resolve("exact-" + UUID.randomUUID()));
        assertThat(toolkit(env, exact, "restore", prefix + "lock1", "", "data")).as("an exact hit").isEqualTo(prefix + "lock1");
        Path miss = Files.createDirectories(temp.resolve("miss-" + UUID.randomUUID()));
        assertThat(toolkit(env, miss, "restore", "never-saved-" + UUID.randomUUID(), "", "data")).as("a miss").isEmpty();
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
