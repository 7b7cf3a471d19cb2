package dev.reprise.runner.service;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.reprise.events.BuildEvent;
import dev.reprise.events.BuildRequested;
import dev.reprise.events.BuildStatus;
import dev.reprise.events.DependencyCacheResult;
import dev.reprise.events.OutputStream;
import dev.reprise.events.StreamTickets;
import dev.reprise.testing.TestGitRepo;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The build step's dependency cache with real git repositories, real processes, the runner's
 * sandbox (builds run as uids of their own where the node allows) and real archives; the store is
 * a small stand-in for artifact-service's {@code deps} door that checks the tenant ticket the way
 * it does (artifact-service's own door is tested there and end to end in DependencyCacheIT). The
 * "tool" is a script that downloads the version its {@code pom.xml} names into
 * {@code ~/.m2/repository} unless it is already there, and says which.
 */
class DependencyCacheExecutorTest {

    private static final String TOOL = "V=$(cat pom.xml); mkdir -p .m2/repository/dep;"
            + " if [ -f .m2/repository/dep/dep-$V.jar ]; then echo \"cached dep $V\"; else echo \"Downloading dep $V\";"
            + " echo jar > .m2/repository/dep/dep-$V.jar; fi; touch .m2/repository/dep/used-by-the-build";

    @TempDir
    Path tmp;

    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    private final FakeDepsDoor store = new FakeDepsDoor();
    private TestGitRepo repo;
    private DependencyCache cache;

    @BeforeEach
    void setUp() throws Exception {
        // Traversable by the builds' own uids, which reach their workspaces under it (JUnit makes it owner-only).
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rwxr-xr-x"));
        store.start();
        cache = new DependencyCache(TestDependencyCacheConfig.at(store.url(), tmp.resolve("scratch")), metrics);
        repo = TestGitRepo.create();
    }

    @AfterEach
    void tearDown() {
        store.stop();
    }

    @Test
    void aMissIsSavedWithProvenanceTheNextCommitHitsAndANewLockfileRestoresTheNewestEntry() throws Exception {
        String a = commit("1.0", "first");
        List<BuildEvent> first = build(a, "dev", false);
        assertThat(results(first)).containsExactly("miss", "saved");
        assertThat(stdout(first)).contains("Downloading dep 1.0");
        DependencyCacheResult saved = result(first, "saved");
        assertThat(saved.paths()).containsExactly(".m2/repository");
        assertThat(saved.bytes()).isPositive();
        assertThat(saved.builtFrom()).contains("commit " + a.substring(0, 12), "'first'", "on main", "build " + saved.buildId(), "java ");
        FakeDepsDoor.Entry entry = store.entries.get(0);
        assertThat(entry.tenant()).isEqualTo("dev");
        assertThat(entry.key()).startsWith("deps-").endsWith(saved.key());
        assertThat(entry.headers()).containsEntry("X-Reprise-Commit", a).containsEntry("X-Reprise-Branch", "main")
                .containsEntry("X-Reprise-Build-Id", saved.buildId()).containsKeys("X-Reprise-Toolchain", "X-Reprise-Lockfile-Hash",
                        "X-Reprise-Duration-Ms");
        assertThat(URLDecoder.decode(entry.headers().get("X-Reprise-Commit-Message"), StandardCharsets.UTF_8)).isEqualTo("first");
        assertThat(entry.headers().get("X-Reprise-Repository")).isEqualTo(dev.reprise.events.RepositoryUrl.parse(repo.url()).normalized());

        // Another source file, the same pom: the exact key, restored for the build's uid (it writes into it), nothing saved.
        String b = commitSource("second");
        List<BuildEvent> second = build(b, "dev", false);
        assertThat(results(second)).containsExactly("hit");
        assertThat(stdout(second)).contains("cached dep 1.0").doesNotContain("Downloading");
        DependencyCacheResult hit = result(second, "hit");
        assertThat(hit.key()).isEqualTo(saved.key());
        assertThat(hit.restoredKey()).isEqualTo(entry.key());
        assertThat(hit.builtFrom()).contains("commit " + a.substring(0, 12), "'first'");
        assertThat(store.entries).hasSize(1);

        // A new lockfile: the newest entry of the repository and toolchain, then the new key saved.
        String c = commit("2.0", "bump dep");
        List<BuildEvent> third = build(c, "dev", false);
        assertThat(results(third)).containsExactly("partial", "saved");
        assertThat(result(third, "partial").restoredKey()).isEqualTo(entry.key());
        assertThat(result(third, "partial").key()).isNotEqualTo(saved.key());
        assertThat(stdout(third)).contains("Downloading dep 2.0");
        assertThat(store.entries).hasSize(2);
        assertThat(store.entries.get(1).headers().get("X-Reprise-Dependency-Digests")).contains(store.entries.get(0).digest());
        assertThat(store.entries.get(1).headers().get("X-Reprise-Lockfile-Hash"))
                .isNotEqualTo(store.entries.get(0).headers().get("X-Reprise-Lockfile-Hash"));

        assertThat(metrics.counter("reprise.runner.dependency.cache", "result", "hit").count()).isEqualTo(1);
        assertThat(metrics.counter("reprise.runner.dependency.cache", "result", "partial").count()).isEqualTo(1);
        assertThat(metrics.counter("reprise.runner.dependency.cache", "result", "saved").count()).isEqualTo(2);
    }

    @Test
    void anotherTenantsBuildOfTheSameCommitRestoresNothing() throws Exception {
        String a = commit("1.0", "first");
        assertThat(results(build(a, "dev", false))).containsExactly("miss", "saved");

        List<BuildEvent> other = build(a, "other-team", false);
        assertThat(results(other)).containsExactly("miss", "saved");
        assertThat(stdout(other)).contains("Downloading dep 1.0");
        assertThat(store.entries).extracting(FakeDepsDoor.Entry::tenant).containsExactly("dev", "other-team");
    }

    @Test
    void aFreshBuildRestoresNothing() throws Exception {
        String a = commit("1.0", "first");
        build(a, "dev", false);

        List<BuildEvent> fresh = build(a, "dev", true);
        assertThat(results(fresh)).as("bypassed; the save finds the key taken and says nothing").containsExactly("bypassed");
        assertThat(stdout(fresh)).contains("Downloading dep 1.0");
    }

    @Test
    void anUnreachableOrFailingStoreIsAMissNeverAFailedBuild() throws Exception {
        String a = commit("1.0", "first");
        store.failing = true;
        List<BuildEvent> failing = build(a, "dev", false);
        assertThat(results(failing)).containsExactly("error", "error");
        assertThat(result(failing, "error").detail()).contains("500");
        assertThat(completed(failing)).isEqualTo(BuildStatus.SUCCESS);

        store.stop();
        List<BuildEvent> down = build(a, "dev", false);
        assertThat(results(down).get(0)).isEqualTo("error");
        assertThat(completed(down)).isEqualTo(BuildStatus.SUCCESS);
    }

    @Test
    void aCorruptOrHostileArchiveIsRefusedAndTheBuildDownloadsAsOnAMiss() throws Exception {
        String a = commit("1.0", "first");
        build(a, "dev", false);
        store.entries.get(0).body = "not an archive at all".getBytes(StandardCharsets.UTF_8);

        List<BuildEvent> again = build(commitSource("second"), "dev", false);
        assertThat(results(again).get(0)).isEqualTo("error");
        assertThat(stdout(again)).contains("Downloading dep 1.0");
        assertThat(completed(again)).isEqualTo(BuildStatus.SUCCESS);
    }

    @Test
    void aCheckoutWhoseDependencyDirectoryIsASymlinkIsNeitherRestoredThroughNorSaved() throws Exception {
        String a = commit("1.0", "first");
        build(a, "dev", false);
        Path outside = Files.createDirectories(tmp.resolve("outside"));
        Files.createSymbolicLink(repo.dir().resolve(".m2"), outside);
        // This build leaves .m2 alone: whatever lands behind the link is the runner's doing.
        Files.writeString(repo.dir().resolve("build.sh"), "#!/usr/bin/env bash\necho building\n");
        repo.git("add", ".m2", "build.sh");
        repo.git("-c", "user.email=t@reprise.dev", "-c", "user.name=t", "commit", "-q", "-m", "link .m2 out");
        String linked = repo.head();

        List<BuildEvent> events = build(linked, "dev", false);
        assertThat(results(events).get(0)).isEqualTo("error");
        assertThat(result(events, "error").detail()).contains("symlink");
        try (var listed = Files.list(outside)) {
            assertThat(listed).as("nothing restored through the checkout's symlink").isEmpty();
        }
        assertThat(store.entries).as("nothing saved from behind it").hasSize(1);
    }

    // --- helpers ---

    private String commit(String version, String message) throws Exception {
        Files.writeString(repo.dir().resolve("pom.xml"), version);
        Files.writeString(repo.dir().resolve("build.sh"), "#!/usr/bin/env bash\nset -e\n" + TOOL + "\n");
        Files.setPosixFilePermissions(repo.dir().resolve("build.sh"), PosixFilePermissions.fromString("rwxr-xr-x"));
        repo.git("add", "pom.xml", "build.sh");
        repo.git("-c", "user.email=t@reprise.dev", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", message);
        return repo.head();
    }

    private String commitSource(String message) throws Exception {
        Files.writeString(repo.dir().resolve("Main.java"), "class Main { /* " + message + " */ }");
        repo.git("add", "Main.java");
        repo.git("-c", "user.email=t@reprise.dev", "-c", "user.name=t", "commit", "-q", "-m", message);
        return repo.head();
    }

    private List<BuildEvent> build(String sha, String tenant, boolean fresh) {
        List<BuildEvent> events = new CopyOnWriteArrayList<>();
        String id = "b-" + UUID.randomUUID();
        BuildRequested request = new BuildRequested(id, tenant, "k".repeat(64), repo.url(), "main", sha, "custom", "./build.sh",
                null, fresh, Instant.now(), 60);
        new BuildExecutor(new TestRunnerConfig(tmp.resolve("workspaces"), 60), "test-runner", Optional.empty(), Optional.empty(),
                Optional.of(cache)).run(request, events::add, new RunningBuild(id, Duration.ofSeconds(1)));
        return events;
    }

    private static List<String> results(List<BuildEvent> events) {
        return events.stream().filter(DependencyCacheResult.class::isInstance).map(e -> ((DependencyCacheResult) e).result()).toList();
    }

    private static DependencyCacheResult result(List<BuildEvent> events, String result) {
        return events.stream().filter(e -> e instanceof DependencyCacheResult d && d.result().equals(result))
                .map(DependencyCacheResult.class::cast).findFirst().orElseThrow();
    }

    private static String stdout(List<BuildEvent> events) {
        return TestRunnerConfig.output(events, OutputStream.STDOUT) + TestRunnerConfig.output(events, OutputStream.STDERR);
    }

    private static BuildStatus completed(List<BuildEvent> events) {
        return events.stream().filter(dev.reprise.events.BuildCompleted.class::isInstance)
                .map(e -> ((dev.reprise.events.BuildCompleted) e).status()).findFirst().orElseThrow();
    }

    /** artifact-service's deps door in miniature: tickets checked, entries per tenant, exact key then newest by prefix. */
    static final class FakeDepsDoor {
        static final class Entry {
            final long id;
            final String tenant;
            final String key;
            final String version;
            final Map<String, String> headers;
            volatile byte[] body;

            Entry(long id, String tenant, String key, String version, Map<String, String> headers, byte[] body) {
                this.id = id;
                this.tenant = tenant;
                this.key = key;
                this.version = version;
                this.headers = headers;
                this.body = body;
            }

            String tenant() {
                return tenant;
            }

            String key() {
                return key;
            }

            Map<String, String> headers() {
                return headers;
            }

            String digest() {
                return dev.reprise.taskcache.DependencyKeys.sha256(body);
            }
        }

        private static final ObjectMapper JSON = new ObjectMapper();
        final List<Entry> entries = new CopyOnWriteArrayList<>();
        private final StreamTickets tickets = new StreamTickets(TestDependencyCacheConfig.SECRET);
        private HttpServer server;
        volatile boolean failing;

        void start() throws IOException {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.createContext("/api/v1/deps", this::handle);
            server.start();
        }

        URI url() {
            return URI.create("http://127.0.0.1:" + server.getAddress().getPort());
        }

        void stop() {
            server.stop(0);
        }

        private void handle(HttpExchange exchange) throws IOException {
            try (exchange) {
                String authorization = exchange.getRequestHeaders().getFirst("Authorization");
                Optional<StreamTickets.Ticket> ticket = authorization == null ? Optional.empty()
                        : tickets.verify(authorization.substring("Bearer ".length()), Instant.now())
                                .filter(t -> t.subject().equals(StreamTickets.ARTIFACTS));
                if (ticket.isEmpty()) {
                    send(exchange, 401, "{}");
                    return;
                }
                if (failing) {
                    send(exchange, 500, "{\"detail\":\"broken\"}");
                    return;
                }
                String tenant = ticket.get().tenantId();
                String path = exchange.getRequestURI().getPath();
                Map<String, String> query = query(exchange.getRequestURI().getRawQuery());
                if (path.endsWith("/archive")) {
                    long id = Long.parseLong(path.split("/")[4]);
                    Optional<Entry> entry = entries.stream().filter(e -> e.id == id && e.tenant.equals(tenant)).findFirst();
                    if (entry.isEmpty()) {
                        send(exchange, 404, "{}");
                        return;
                    }
                    exchange.sendResponseHeaders(200, entry.get().body.length);
                    exchange.getResponseBody().write(entry.get().body);
                } else if (exchange.getRequestMethod().equals("PUT")) {
                    String key = query.get("key");
                    if (entries.stream().anyMatch(e -> e.tenant.equals(tenant) && e.key.equals(key))) {
                        send(exchange, 409, "{}");
                        return;
                    }
                    Map<String, String> headers = new HashMap<>();
                    exchange.getRequestHeaders().forEach((name, values) -> {
                        if (name.toLowerCase().startsWith("x-reprise-")) {
                            headers.put(canonical(name), values.get(0));
                        }
                    });
                    Entry entry = new Entry(entries.size() + 1, tenant, key, query.get("version"), headers,
                            exchange.getRequestBody().readAllBytes());
                    entries.add(entry);
                    send(exchange, 201, "{\"id\":" + entry.id + ",\"digest\":\"" + entry.digest() + "\"}");
                } else {
                    String key = query.get("key");
                    String prefix = query.getOrDefault("restoreKeys", "\u0000");
                    List<Entry> mine = new ArrayList<>(entries.stream().filter(e -> e.tenant.equals(tenant)
                            && e.version.equals(query.get("version"))).toList());
                    java.util.Collections.reverse(mine);
                    Optional<Entry> found = mine.stream().filter(e -> e.key.equals(key)).findFirst()
                            .or(() -> mine.stream().filter(e -> e.key.startsWith(prefix)).findFirst());
                    if (found.isEmpty()) {
                        exchange.sendResponseHeaders(204, -1);
                        return;
                    }
                    Entry e = found.get();
                    ObjectNode provenance = JSON.createObjectNode().put("commit", e.headers.get("X-Reprise-Commit"))
                            .put("commitMessage", URLDecoder.decode(e.headers.getOrDefault("X-Reprise-Commit-Message", ""), StandardCharsets.UTF_8))
                            .put("branch", e.headers.get("X-Reprise-Branch")).put("buildId", e.headers.get("X-Reprise-Build-Id"))
                            .put("durationMs", Long.parseLong(e.headers.get("X-Reprise-Duration-Ms")));
                    provenance.set("toolchain", JSON.readTree(e.headers.get("X-Reprise-Toolchain")));
                    ObjectNode hit = JSON.createObjectNode().put("matchedKey", e.key).put("archiveUrl", "/api/v1/deps/" + e.id + "/archive")
                            .put("digest", e.digest());
                    hit.set("provenance", provenance);
                    send(exchange, 200, hit.toString());
                }
            }
        }

        private static String canonical(String header) {
            StringBuilder out = new StringBuilder();
            for (String part : header.split("-")) {
                out.append(out.isEmpty() ? "" : "-").append(Character.toUpperCase(part.charAt(0))).append(part.substring(1).toLowerCase());
            }
            return out.toString();
        }

        private static Map<String, String> query(String raw) {
            Map<String, String> query = new HashMap<>();
            if (raw != null) {
                for (String pair : raw.split("&")) {
                    int eq = pair.indexOf('=');
                    query.put(URLDecoder.decode(pair.substring(0, eq), StandardCharsets.UTF_8),
                            URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
                }
            }
            return query;
        }

        private static void send(HttpExchange exchange, int status, String body) throws IOException {
            byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "application/json");
            exchange.sendResponseHeaders(status, bytes.length);
            exchange.getResponseBody().write(bytes);
        }
    }
}
