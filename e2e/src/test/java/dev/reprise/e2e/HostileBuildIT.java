package dev.reprise.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reprise.testing.TestGitRepo;
import java.net.Inet4Address;
import java.net.NetworkInterface;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * A second tenant, B, attacks the platform through its builds, as a hostile tenant would: one build
 * probes everything a build must not reach (the platform's secrets and data, other workspaces and
 * processes, every store, service and the container engine on loopback and on the node's address,
 * mounts and namespaces), others try a fork bomb, a step-cache poisoning of tenant A's next build
 * and variables that run code around the build; B also forges a token grant in Redis and keeps
 * using a revoked token. Each attack must fail, and A's build, recording and next build output must
 * be what A built. Prints a table: attack | result | what stopped it.
 */
@Isolated
class HostileBuildIT {

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static final Map<String, String[]> TABLE = Collections.synchronizedMap(new LinkedHashMap<>());
    private static String tenantB;
    private static String tokenB;

    @BeforeAll
    static void secondTenant() throws Exception {
        tenantB = Services.newTenant("hostile", "Hostile B");
        tokenB = Services.newToken(tenantB, "read-write");
    }

    @AfterAll
    static void printTable() {
        StringBuilder table = new StringBuilder("\nHostile builds (tenant B against the platform and tenant A)\n");
        table.append(String.format("%-44s | %-8s | %s%n", "attack", "result", "what stopped it"));
        table.append("-".repeat(44)).append("-|-").append("-".repeat(8)).append("-|-").append("-".repeat(60)).append('\n');
        TABLE.forEach((attack, row) -> table.append(String.format("%-44s | %-8s | %s%n", attack, row[0], row[1])));
        System.out.println(table);
    }

    @Test
    void aBuildReachesNothingButItsOwnWorkspace() throws Exception {
        Path home = Services.home();
        // Tenant A's build is running (and holds a workspace) while B's probes run.
        String markerA = "tenant-a-running-" + UUID.randomUUID();
        // A's sleeper is recognisable by its argument (a probe's own command line holds only the pattern, "20[.]…").
        String sleepA = String.valueOf(System.nanoTime() % 1_000_000_000L);
        String repoA = TestGitRepo.withBuildScript("echo " + markerA + "; echo secret-source > a-secret.txt; sleep 20." + sleepA).url();
        JsonNode a = Builds.live(repoA, "./build.sh", Map.of());
        await().atMost(Builds.BUILD_TIMEOUT).pollInterval(Duration.ofMillis(200)).until(() -> "RUNNING".equals(
                Services.getAuthorized("gateway", "/api/v1/builds/" + a.path("buildId").asText()).body().path("status").asText()));

        List<String[]> probes = new ArrayList<>();
        probes.add(new String[] {"read the development token", "grep -q . " + home.resolve("token"), "hidden by the sandbox's view"});
        probes.add(new String[] {"read the operator token", "grep -q . " + home.resolve("operator-token"), "hidden by the sandbox's view"});
        probes.add(new String[] {"read the stream secret", "grep -q . " + home.resolve("stream-secret"), "hidden by the sandbox's view"});
        probes.add(new String[] {"list the stack's stored data", "ls -A " + home.resolve("data") + " | grep -q .", "hidden by the sandbox's view"});
        probes.add(new String[] {"umount the hiding of the token", "umount " + home.resolve("token"), "no capabilities; seccomp refuses mount/umount"});
        probes.add(new String[] {"mount a file system", "mount -t tmpfs none /mnt", "no capabilities; seccomp refuses mount"});
        probes.add(new String[] {"new user namespace (root inside)", "unshare -Urm true", "--disable-userns; seccomp refuses unshare and clone flags"});
        probes.add(new String[] {"write to the host", "touch /usr/local/reprise-pwned-" + tenantB, "read-only view of the host; build uid owns nothing"});
        probes.add(new String[] {"be root", "test \"$(id -u)\" = 0", "runs as a uid of its own (setpriv), not root"});
        probes.add(new String[] {"see other builds' workspaces", "ls -A /tmp/reprise-workspaces | grep -vx \"$REPRISE_BUILD_ID\" | grep -q .",
                "workspace root is empty but for its own; private /tmp"});
        probes.add(new String[] {"read tenant A's running workspace", "cat /tmp/reprise-workspaces/" + a.path("buildId").asText() + "/a-secret.txt",
                "hidden; workspace dirs are 700 and owned by A's build uid"});
        probes.add(new String[] {"see tenant A's processes", "cat /proc/[0-9]*/cmdline 2>/dev/null | tr '\\0' ' ' | grep -q 'sleep 20[.]"
                + sleepA + "'", "own PID namespace"});
        probes.add(new String[] {"ptrace (PTRACE_TRACEME)", "perl -e 'exit(syscall(101, 0, 0, 0, 0) == -1 ? 1 : 0)'", "seccomp filter"});
        probes.add(new String[] {"read the task cache", "ls -A /tmp/reprise-task-cache | grep -q .", "hidden; private /tmp"});
        probes.add(new String[] {"the container engine's socket", "curl -s --max-time 3 --unix-socket " + home.resolve("run/podman.sock")
                + " http://d/_ping | grep -q OK", "hidden by the sandbox's view; root-only socket"});
        probes.add(new String[] {"PostgreSQL's unix socket (trust auth)", "perl -MIO::Socket::UNIX -e"
                + " 'IO::Socket::UNIX->new(Peer => \"/run/postgresql/.s.PGSQL.5432\") or exit 1'", "/run hidden from builds"});
        probes.add(new String[] {"cloud metadata (169.254.169.254)", "timeout 3 bash -c 'exec 3<>/dev/tcp/169.254.169.254/80'",
                "firewall: link-local rejected"});
        for (Map.Entry<String, Integer> store : stores().entrySet()) {
            probes.add(new String[] {"connect to " + store.getKey(), "timeout 3 bash -c 'exec 3<>/dev/tcp/" + store.getKey().replaceAll(".* on ", "")
                    + "/" + store.getValue() + "'", store.getKey().contains(" on 127.") || store.getKey().contains(" on ::1")
                    ? "own network namespace: the node's loopback is not there" : "firewall: the node rejects its builds"});
        }
        StringBuilder script = new StringBuilder("probe() { if bash -c \"$2\" >/dev/null 2>&1; then echo \"PROBE $1=OPEN\"; else echo \"PROBE $1=closed\"; fi; }\n");
        for (int i = 0; i < probes.size(); i++) {
            script.append("probe ").append(i).append(" ").append(quote(probes.get(i)[1])).append('\n');
        }
        script.append("timeout 10 bash -c 'exec 3<>/dev/tcp/registry.npmjs.org/443' && echo 'PROBE internet=OPEN' || echo 'PROBE internet=closed'\n");
        // The build's own loopback works (test servers, Gradle's daemon): isolation is not the absence of a network.
        script.append("perl -MIO::Socket::INET -e '$s = IO::Socket::INET->new(LocalAddr => \"127.0.0.1:18081\", Listen => 1, ReuseAddr => 1)"
                + " or die; if (fork() == 0) { IO::Socket::INET->new(\"127.0.0.1:18081\") or die; exit 0 } $s->accept or die'"
                + " && echo 'PROBE own-loopback=OPEN' || echo 'PROBE own-loopback=closed'\n");
        String output = buildAsB(script.toString(), Map.of()).output();

        List<String> open = new ArrayList<>();
        for (int i = 0; i < probes.size(); i++) {
            String[] probe = probes.get(i);
            boolean closed = output.contains("PROBE " + i + "=closed");
            assertThat(closed || output.contains("PROBE " + i + "=OPEN")).as("probe " + probe[0] + " ran: " + output).isTrue();
            TABLE.put(probe[0], new String[] {closed ? "refused" : "OPEN", probe[2]});
            if (!closed) {
                open.add(probe[0]);
            }
        }
        assertThat(open).as("what a build reached").isEmpty();
        assertThat(output).as("egress to the internet still works (package registries)").contains("PROBE internet=OPEN");
        assertThat(output).as("the build's own loopback works").contains("PROBE own-loopback=OPEN");
        assertThat(Path.of("/usr/local/reprise-pwned-" + tenantB)).doesNotExist();

        JsonNode doneA = Builds.awaitFinal(a.path("buildId").asText());
        assertThat(doneA.path("status").asText()).as("tenant A's build, run beside the probes").isEqualTo("SUCCESS");
        assertThat(String.join("\n", Builds.awaitRecording(a.path("cacheKey").asText(), a.path("buildId").asText()))).contains(markerA);
    }

    @Test
    void aForkBombIsHeldAndTheNextBuildRuns() throws Exception {
        Result bomb = buildAsB("perl -e '$0 = \"fork-bomb-" + tenantB + "\"; my $n = 0; for (1 .. 100000) { my $p = fork();"
                + " last unless defined $p; if ($p == 0) { sleep 600; exit 0 } $n++ } print \"forked $n\\n\"'", Map.of());
        int forked = Integer.parseInt(bomb.output().replaceAll("(?s).*forked (\\d+).*", "$1"));
        assertThat(forked).as("processes the bomb got").isLessThanOrEqualTo(4096);
        assertThat(ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains("fork-bomb-" + tenantB)).count())
                .as("nothing of it outlives the build").isZero();
        String marker = "after-the-bomb-" + UUID.randomUUID();
        Builds.Recorded next = Builds.recorded(TestGitRepo.withBuildScript("echo " + marker).url(), "./build.sh", Map.of());
        assertThat(String.join("\n", next.messages())).contains(marker);
        TABLE.put("fork bomb", new String[] {"held", "pids limit (cgroup, " + forked + " forks) and the build's processes killed with it"});
    }

    @Test
    void stepCacheEntriesArePerTenantAndCannotBePoisoned() throws Exception {
        // One tree, built by A, then by B (who plants poison where the runner's cache is), then by A again.
        String stamp = UUID.randomUUID().toString();
        String script = "if [ \"$REPRISE_TENANT\" != dev ]; then for d in /tmp/reprise-task-cache " + Path.of(System.getProperty("java.io.tmpdir"))
                .resolve("reprise-task-cache") + "; do mkdir -p $d/poison 2>/dev/null || true; echo POISONED 2>/dev/null > $d/poison/log || true; done;"
                + " echo 'POISONED output'; fi; echo \"built " + stamp + " for $REPRISE_TENANT\"; echo out > out.txt";
        TestGitRepo repo = TestGitRepo.withBuildScript(script);
        Builds.Recorded first = Builds.recorded(repo.url(), "./build.sh", Map.of());
        assertThat(stepCache(first.messages())).contains("\"result\":\"miss\"");

        Result b = buildAsB(script, Map.of(), repo);
        assertThat(b.stepCache()).as("B never gets A's step outputs").contains("\"result\":\"miss\"").doesNotContain("\"result\":\"hit\"");
        assertThat(b.output()).contains("for " + tenantB);

        assertThat(Services.delete("gateway", "/api/v1/cache/" + first.cacheKey()).status()).isEqualTo(200);
        Builds.Recorded again = Builds.recorded(repo.url(), "./build.sh", Map.of());
        String output = String.join("\n", again.messages());
        assertThat(stepCache(again.messages())).as("A's own entry").contains("\"result\":\"hit\"");
        assertThat(output).contains("built " + stamp + " for dev").doesNotContain("POISONED");
        TABLE.put("read another tenant's step-cache entry", new String[] {"refused", "step-cache key includes the tenant (B missed)"});
        TABLE.put("poison tenant A's next step-cache hit", new String[] {"refused", "task cache hidden from builds; A's hit is A's own output"});
    }

    @Test
    void oneTenantsQueueDoesNotHoldAnotherTenantsBuild() throws Exception {
        // Local mode runs three builds at once and a tenant's share is two: the development tenant floods the runner,
        // and the slot kept free goes to B, whose request comes last, instead of the flood's third build.
        // Unique, so no step-cache entry of an earlier run answers it at once.
        TestGitRepo slow = TestGitRepo.withBuildScript("sleep 15; echo slow $1 " + UUID.randomUUID());
        List<String> flood = new java.util.ArrayList<>();
        for (int i = 0; i < 4; i++) {
            flood.add(Builds.live(slow.url(), "./build.sh " + i, Map.of()).path("buildId").asText());
        }
        try {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(300))
                    .until(() -> flood.stream().filter(id -> status(id).equals("RUNNING")).count() >= 2);
            String quick = "quick build of " + tenantB;
            Result b = buildAsB("echo " + quote(quick), Map.of());

            Map<String, String> floodNow = new LinkedHashMap<>();
            for (String id : flood) {
                floodNow.put(id, status(id));
            }
            TABLE.put("flood the runner from another tenant", new String[] {floodNow.containsValue("SUCCESS") ? "B WAITED" : "B ran at once",
                    "tenant share: a runner's last free slot is kept for another tenant (RUNNER_TENANT_SHARE)"});
            assertThat(b.output()).contains(quick);
            assertThat(floodNow.values()).as("B's build finished while the flood's first builds still ran: " + floodNow)
                    .doesNotContain("SUCCESS", "FAILURE");
            assertThat(floodNow.values().stream().filter("RUNNING"::equals).count()).as(floodNow.toString()).isEqualTo(2);
        } finally {
            for (String id : flood) {
                Services.post("gateway", "/api/v1/builds/" + id + "/cancel", "{}");
            }
            flood.forEach(Builds::awaitFinal);
        }
    }

    private static String status(String buildId) {
        try {
            return Services.getAuthorized("gateway", "/api/v1/builds/" + buildId).body().path("status").asText();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void variablesThatRunCodeAroundTheBuildAreRefused() throws Exception {
        for (String name : List.of("LD_PRELOAD", "BASH_ENV", "GIT_CONFIG_COUNT", "GIT_SSH_COMMAND")) {
            HttpResponse<String> refused = as(tokenB, "POST", 8080, "/api/v1/builds",
                    Builds.body(TestGitRepo.withBuildScript("true").url(), "./build.sh", Map.of("env", "{\"" + name + "\":\"/tmp/x\"}")));
            assertThat(refused.statusCode()).as(name + ": " + refused.body()).isEqualTo(400);
            assertThat(refused.body()).contains(name);
        }
        TABLE.put("env injection (LD_PRELOAD, BASH_ENV, GIT_*)", new String[] {"refused", "400 naming the variable; the root wrapper runs with an empty environment"});
    }

    @Test
    void aGrantForgedInRedisGrantsNothing() throws Exception {
        String forged = "rpr_" + Base64.getUrlEncoder().withoutPadding().encodeToString(new byte[32]).replace('A', 'f');
        String hash = Services.sha256Hex(forged);
        String grant = "{\"tenantId\":\"dev\",\"tenantName\":\"Development\",\"tokenName\":\"forged\",\"scope\":\"operator\"}";
        // as someone holding the Redis password would (a build cannot reach Redis at all)
        Services.Run set = Services.run(Services.ROOT, Map.of("REDISCLI_AUTH", System.getenv().getOrDefault("REDIS_PASSWORD", "")),
                Duration.ofSeconds(10), "redis-cli", "--no-auth-warning", "-h", "127.0.0.1", "-p",
                System.getenv().getOrDefault("REDIS_PORT", "6379"), "SET", "reprise:cache:token:" + hash, grant, "EX", "300");
        assertThat(set.output()).as("the forgery is in Redis").contains("OK");
        assertThat(as(forged, "GET", 8080, "/api/v1/whoami", null).statusCode()).as("gateway").isEqualTo(401);
        assertThat(as(forged, "GET", Services.PORTS.get("artifact"), "/v8/artifacts/" + "0".repeat(32), null).statusCode()).as("artifact")
                .isEqualTo(401);
        assertThat(as(forged, "GET", Services.PORTS.get("artifact"), "/api/v1/admin/caches", null).statusCode()).as("artifact's operator API")
                .isEqualTo(401);
        TABLE.put("forge an operator grant in Redis", new String[] {"refused", "cached grants are HMAC-signed for their key; unsigned is a miss"});
    }

    @Test
    void aRevokedTokenStopsWorkingEverywhereWithinFiveSeconds() throws Exception {
        String token = Services.newToken(tenantB, "read-write");
        assertThat(as(token, "GET", 8080, "/api/v1/whoami", null).statusCode()).isEqualTo(200);
        assertThat(as(token, "GET", Services.PORTS.get("artifact"), "/v8/artifacts/" + "1".repeat(32), null).statusCode()).isEqualTo(404);
        Services.sql("UPDATE gateway.api_tokens SET revoked_at = now() WHERE token_hash = '" + Services.sha256Hex(token) + "'");
        long revoked = System.nanoTime();
        await().atMost(Duration.ofSeconds(5)).pollInterval(Duration.ofMillis(200)).until(() ->
                as(token, "GET", 8080, "/api/v1/whoami", null).statusCode() == 401
                        && as(token, "GET", Services.PORTS.get("artifact"), "/v8/artifacts/" + "1".repeat(32), null).statusCode() == 401);
        TABLE.put("use a revoked token", new String[] {"refused", "grants cached at most 5 s; refused after "
                + (System.nanoTime() - revoked) / 1_000_000 + " ms"});
    }

    /** Every store and service of the local stack, on loopback and on the node's own address. */
    private static Map<String, Integer> stores() throws Exception {
        Map<String, Integer> stores = new LinkedHashMap<>();
        stores.put("PostgreSQL on 127.0.0.1", Integer.parseInt(System.getenv().getOrDefault("PG_PORT", "5432")));
        stores.put("Redis on 127.0.0.1", Integer.parseInt(System.getenv().getOrDefault("REDIS_PORT", "6379")));
        stores.put("Kafka on 127.0.0.1", Integer.parseInt(System.getenv().getOrDefault("KAFKA_PORT", "9092")));
        stores.put("S3 on 127.0.0.1", Integer.parseInt(System.getenv().getOrDefault("S3_PORT", "9000")));
        stores.put("the registry on 127.0.0.1", Integer.parseInt(System.getenv().getOrDefault("REGISTRY_PORT", "5000")));
        Services.PORTS.forEach((service, port) -> stores.put(service + " on 127.0.0.1", port));
        stores.put("Redis on ::1", Integer.parseInt(System.getenv().getOrDefault("REDIS_PORT", "6379")));
        for (NetworkInterface nic : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            for (var address : Collections.list(nic.getInetAddresses())) {
                if (address instanceof Inet4Address && !address.isLoopbackAddress()) {
                    stores.put("gateway on " + address.getHostAddress(), Services.PORTS.get("gateway"));
                }
            }
        }
        return stores;
    }

    /** What one of B's builds printed, and its step-cache result message. */
    record Result(String output, String stepCache) {
    }

    private static Result buildAsB(String script, Map<String, Object> extra) throws Exception {
        return buildAsB(script, extra, TestGitRepo.withBuildScript(script));
    }

    private static Result buildAsB(String script, Map<String, Object> extra, TestGitRepo repo) throws Exception {
        HttpResponse<String> started = as(tokenB, "POST", 8080, "/api/v1/builds", Builds.body(repo.url(), "./build.sh", extra));
        assertThat(started.statusCode()).as(started.body()).isEqualTo(202);
        JsonNode build = Services.JSON.readTree(started.body());
        String id = build.path("buildId").asText();
        await().atMost(Builds.BUILD_TIMEOUT).pollInterval(Duration.ofMillis(300)).until(() -> {
            String status = Services.JSON.readTree(as(tokenB, "GET", 8080, "/api/v1/builds/" + id, null).body()).path("status").asText();
            return !status.equals("QUEUED") && !status.equals("RUNNING");
        });
        List<String> messages = Builds.awaitRecording(build.path("cacheKey").asText(), id);
        StringBuilder output = new StringBuilder();
        for (String message : messages) {
            JsonNode node = Services.JSON.readTree(message);
            if (node.path("type").asText().equals("dev.reprise.build.output.v1")) {
                output.append(node.path("data").path("chunk").asText());
            }
        }
        return new Result(output.toString(), messages.stream().filter(m -> m.contains("dev.reprise.build.step-cache.v1")).findFirst().orElse(""));
    }

    /**
     * A member of tenant B (or a job B runs) plants task-cache archives in B's remote cache: one
     * whose symlink output points out of the tree with a file written through it, one that inflates
     * from kilobytes to far more than the restore limit. Another of B's machines restores them
     * through artifact-service with the unmodified CLI: both are refused, nothing is written outside
     * the tree, and the task runs instead.
     */
    @Test
    void poisonedTaskCacheArchivesAreRefusedByTheClientThatRestoresThem(@TempDir Path temp) throws Exception {
        Path outside = Files.createDirectories(temp.resolve("outside"));
        byte[] pwned = "pwned\n".getBytes(StandardCharsets.UTF_8);
        String pwnedSha = hex(pwned);
        String symlinkKey = plantEntry(temp, "symlink", entry -> {
            entry.outputs.add(Map.of("path", "out/link", "type", "symlink", "target", outside.toString()));
            entry.outputs.add(Map.of("path", "out/link/pwned.txt", "type", "file", "mode", "rw-r--r--", "size", pwned.length, "sha256",
                    pwnedSha));
            entry.members.put("files/" + pwnedSha, pwned);
        });
        // 300 MB of zeros deflate to about 300 KB; the restoring machine allows 100 MB per entry.
        byte[] zeros = new byte[1 << 20];
        MessageDigest digest = MessageDigest.getInstance("SHA-256");
        for (int i = 0; i < 300; i++) {
            digest.update(zeros);
        }
        String bombSha = HexFormat.of().formatHex(digest.digest());
        String bombKey = plantEntry(temp, "bomb", entry -> {
            entry.outputs.add(Map.of("path", "out/big.bin", "type", "file", "mode", "rw-r--r--", "size", 300L << 20, "sha256", bombSha));
            entry.zeroMembers.put("files/" + bombSha, 300);
        });

        Map<String, String> remote = Map.of("REPRISE_REMOTE_URL", "http://127.0.0.1:" + Services.PORTS.get("artifact"), "REPRISE_TOKEN", tokenB);
        for (String[] attack : new String[][] {{"symlink", symlinkKey, "outside the working tree"}, {"bomb", bombKey, "expands to more than 104857600 bytes"}}) {
            Path machine = project(temp.resolve("restoring-" + attack[0]));
            Services.Run run = TaskCacheIT.cli(machine, temp.resolve("cache-restoring-" + attack[0]), remote, taskArgs(attack[0]));
            assertThat(run.exitCode()).as(run.output()).isZero();
            assertThat(run.output()).as(attack[0]).containsPattern("(refusing the remote entry for|not restoring the remote entry) " + attack[1])
                    .contains(attack[2])
                    .contains("ran " + attack[0]).doesNotContain("remote hit");
            assertThat(Files.readString(machine.resolve("out/a.txt"))).as("the task ran instead").isEqualTo(attack[0] + "\n");
        }
        try (var left = Files.list(outside)) {
            assertThat(left.toList()).as("nothing written through the planted symlink").isEmpty();
        }
        TABLE.put("task-cache archive: symlink out of the tree", new String[] {"refused", "CLI refuses a symlink target outside the tree before writing; task runs"});
        TABLE.put("task-cache archive: zip bomb 300KB->300MB", new String[] {"refused", "CLI counts inflated bytes against restoreMaxSize"});
    }

    /** A hand-made task-cache entry: the manifest's outputs and the archive's members beside the real entry's log. */
    private static final class Planted {
        final List<Map<String, Object>> outputs = new ArrayList<>();
        final Map<String, byte[]> members = new LinkedHashMap<>();
        final Map<String, Integer> zeroMembers = new LinkedHashMap<>();
    }

    /**
     * Runs the task once on a machine of its own (local cache only) for its real key, then uploads a
     * hostile archive under that key to B's remote cache as B. @return the key
     */
    private static String plantEntry(Path temp, String name, java.util.function.Consumer<Planted> hostile) throws Exception {
        Path cache = temp.resolve("cache-planting-" + name);
        Services.Run planting = TaskCacheIT.cli(project(temp.resolve("planting-" + name)), cache, Map.of(), taskArgs(name));
        assertThat(planting.exitCode()).as(planting.output()).isZero();
        Path entryDir;
        try (var entries = Files.list(cache.resolve("entries"))) {
            entryDir = entries.filter(Files::isDirectory).findFirst().orElseThrow();
        }
        String key = entryDir.getFileName().toString();
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        var manifest = (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(entryDir.resolve("manifest.json").toFile());
        Planted planted = new Planted();
        hostile.accept(planted);
        manifest.set("outputs", json.valueToTree(planted.outputs));
        byte[] manifestBytes = json.writeValueAsBytes(manifest);

        java.io.ByteArrayOutputStream archive = new java.io.ByteArrayOutputStream();
        try (java.util.zip.ZipOutputStream zip = new java.util.zip.ZipOutputStream(archive)) {
            Map<String, byte[]> members = new LinkedHashMap<>();
            members.put("manifest.json", manifestBytes);
            members.put("manifest.sha256", (hex(manifestBytes) + "\n").getBytes(StandardCharsets.US_ASCII));
            members.put("log.bin", Files.readAllBytes(entryDir.resolve("log.bin")));
            members.putAll(planted.members);
            for (Map.Entry<String, byte[]> member : members.entrySet()) {
                zip.putNextEntry(new java.util.zip.ZipEntry(member.getKey()));
                zip.write(member.getValue());
                zip.closeEntry();
            }
            for (Map.Entry<String, Integer> member : planted.zeroMembers.entrySet()) {
                zip.putNextEntry(new java.util.zip.ZipEntry(member.getKey()));
                byte[] zeros = new byte[1 << 20];
                for (int i = 0; i < member.getValue(); i++) {
                    zip.write(zeros);
                }
                zip.closeEntry();
            }
        }
        HttpResponse<String> put = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + Services.PORTS.get("artifact")
                        + "/api/v1/caches?key=task-" + key + "&version=taskcache-v1")).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + tokenB).PUT(HttpRequest.BodyPublishers.ofByteArray(archive.toByteArray())).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
        return key;
    }

    /** A checkout whose .reprise.json allows 100 MB per restored entry. */
    private static Path project(Path dir) throws Exception {
        Files.createDirectories(dir.resolve("src"));
        Files.writeString(dir.resolve("src/input.txt"), "same input on every machine\n");
        Files.writeString(dir.resolve(".reprise.json"), "{\"restoreMaxSize\": \"100MB\"}");
        return dir;
    }

    private static String[] taskArgs(String name) {
        return new String[] {"run", "--inputs", "src/**", "--outputs", "out/**", "--", "sh", "-c",
                "mkdir -p out && echo " + name + " > out/a.txt && echo ran " + name};
    }

    private static String hex(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    }

    private static String stepCache(List<String> messages) {
        return messages.stream().filter(m -> m.contains("\"type\":\"dev.reprise.build.step-cache.v1\"")).findFirst().orElseThrow();
    }


    private static String quote(String text) {
        return "'" + text.replace("'", "'\\''") + "'";
    }

    private static HttpResponse<String> as(String token, String method, int port, String path, String json) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(30))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (json != null) {
            request.header("Content-Type", "application/json");
        }
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
