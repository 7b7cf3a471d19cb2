package dev.reprise.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import java.util.Random;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Real build tools (ccache, Bazel, turbo, Nx, Gradle, Maven's build cache extension) against the running artifact-service, unmodified, pointed at its base URL:
 * each builds a small project, its local cache is cleared, it builds again and reports remote
 * hits by its own output or statistics (and the service counts them). Also a 1 GiB blob up and
 * down through the service running with its heap capped at 256 MB.
 */
class ArtifactIT {

    private static final int PORT = Services.PORTS.get("artifact");
    private static final String BASE = "http://127.0.0.1:" + PORT;
    private static final int GRPC_PORT = Integer.parseInt(System.getenv().getOrDefault("REPRISE_ARTIFACT_GRPC_PORT", "8093"));
    private static Path work;
    private static String token;

    @BeforeAll
    static void setUp() throws IOException {
        work = Files.createTempDirectory("reprise-artifact-it");
        token = Services.token();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (work != null) {
            run(work, Map.of(), "rm", "-rf", work.toString());
        }
    }

    @Test
    void ccacheHitsTheRemoteStorageAfterItsLocalCacheIsCleared() throws Exception {
        Path project = Files.createDirectories(work.resolve("ccache"));
        Files.writeString(project.resolve("hello.c"), """
                #include <stdio.h>
                int main(void) { printf("hello from %s\\n", "ccache"); return 0; }
                """);
        Map<String, String> env = Map.of("CCACHE_DIR", project.resolve("local-cache").toString(),
                "CCACHE_REMOTE_STORAGE", "http://ci:" + token + "@127.0.0.1:" + PORT + "/ccache", "CCACHE_NOHASHDIR", "1");
        double hitsBefore = hits("ccache");

        assertSucceeded(run(project, env, "ccache", "gcc", "-c", "hello.c", "-o", "first.o"));
        assertSucceeded(run(project, env, "ccache", "--clear"));
        assertSucceeded(run(project, env, "ccache", "--zero-stats"));
        assertSucceeded(run(project, env, "ccache", "gcc", "-c", "hello.c", "-o", "second.o"));

        String stats = run(project, env, "ccache", "--print-stats").output();
        assertThat(stat(stats, "remote_storage_hit")).as(stats).isGreaterThanOrEqualTo(1);
        assertThat(stat(stats, "local_storage_hit")).as(stats).isZero();
        assertThat(Files.readAllBytes(project.resolve("second.o"))).isEqualTo(Files.readAllBytes(project.resolve("first.o")));
        assertThat(hits("ccache")).isGreaterThan(hitsBefore);
    }

    @Test
    void bazelReportsARemoteCacheHitAfterACleanExpunge() throws Exception {
        Path project = Files.createDirectories(work.resolve("bazel"));
        Files.writeString(project.resolve("WORKSPACE"), "");
        Files.writeString(project.resolve("in.txt"), "hello bazel " + System.nanoTime() + "\n");
        Files.writeString(project.resolve("BUILD"), """
                genrule(
                    name = "shout",
                    srcs = ["in.txt"],
                    outs = ["out.txt"],
                    cmd = "tr a-z A-Z < $< > $@",
                )
                """);
        String root = "--output_user_root=" + work.resolve("bazel-root");
        String cache = "--remote_cache=http://ci:" + token + "@127.0.0.1:" + PORT + "/bazel";
        double hitsBefore = hits("bazel-ac");
        try {
            Services.Run first = run(project, Map.of(), "bazel", root, "build", cache, "//:shout");
            assertSucceeded(first);
            assertThat(first.output()).doesNotContain("remote cache hit");
            assertSucceeded(run(project, Map.of(), "bazel", root, "clean", "--expunge"));

            Services.Run second = run(project, Map.of(), "bazel", root, "build", cache, "//:shout");
            assertSucceeded(second);
            assertThat(second.output()).contains("1 remote cache hit");
            assertThat(Files.readString(project.resolve("bazel-bin/out.txt"))).startsWith("HELLO BAZEL");
            assertThat(hits("bazel-ac")).isGreaterThan(hitsBefore);
        } finally {
            run(project, Map.of(), "bazel", root, "shutdown");
        }
    }

    @Test
    void bazelOverGrpcReportsARemoteCacheHitAfterACleanExpunge() throws Exception {
        Path project = Files.createDirectories(work.resolve("bazel-grpc"));
        Files.writeString(project.resolve("WORKSPACE"), "");
        Files.writeString(project.resolve("in.txt"), "hello grpc " + System.nanoTime() + "\n");
        Files.writeString(project.resolve("BUILD"), """
                genrule(
                    name = "shout",
                    srcs = ["in.txt"],
                    outs = ["out.txt"],
                    cmd = "tr a-z A-Z < $< > $@",
                )
                """);
        String root = "--output_user_root=" + work.resolve("bazel-grpc-root");
        String cache = "--remote_cache=grpc://127.0.0.1:" + GRPC_PORT;
        String header = "--remote_header=Authorization=Bearer " + token;
        double hitsBefore = hits("bazel-ac");
        try {
            Services.Run first = run(project, Map.of(), "bazel", root, "build", cache, header, "//:shout");
            assertSucceeded(first);
            assertThat(first.output()).doesNotContain("remote cache hit");
            assertSucceeded(run(project, Map.of(), "bazel", root, "clean", "--expunge"));

            Services.Run second = run(project, Map.of(), "bazel", root, "build", cache, header, "//:shout");
            assertSucceeded(second);
            assertThat(second.output()).contains("1 remote cache hit");
            assertThat(Files.readString(project.resolve("bazel-bin/out.txt"))).startsWith("HELLO GRPC");
            assertThat(hits("bazel-ac")).isGreaterThan(hitsBefore);

            // A wrong token: Bazel says why it cannot use the cache.
            Services.Run refused = run(project, Map.of(), "bazel", root, "build", cache, "--remote_header=Authorization=Bearer rpr_"
                    + "x".repeat(43), "//:shout");
            assertThat(refused.output()).contains("UNAUTHENTICATED").contains("unknown or revoked token");
        } finally {
            run(project, Map.of(), "bazel", root, "shutdown");
        }
    }

    @Test
    void turboRestoresFromTheRemoteCacheWithFullTurbo() throws Exception {
        Path project = Files.createDirectories(work.resolve("turbo"));
        Files.writeString(project.resolve("package.json"), """
                {"name": "reprise-turbo-it", "private": true, "packageManager": "npm@10.0.0", "workspaces": ["packages/*"],
                 "devDependencies": {"turbo": "2.11.11"}}
                """);
        Files.writeString(project.resolve("turbo.json"), """
                {"tasks": {"build": {"outputs": ["dist/**"]}}}
                """);
        Path pkg = Files.createDirectories(project.resolve("packages/app"));
        String marker = "built " + System.nanoTime();
        Files.writeString(pkg.resolve("package.json"), """
                {"name": "app", "version": "1.0.0", "scripts": {"build": "mkdir -p dist && echo '%s' > dist/out.txt && echo compiling app"}}
                """.formatted(marker));
        assertSucceeded(run(project, Map.of(), "npm", "install", "--no-audit", "--no-fund", "--loglevel=error"));
        assertSucceeded(run(project, Map.of(), "git", "init", "-q"));
        Map<String, String> env = Map.of("TURBO_TELEMETRY_DISABLED", "1", "DO_NOT_TRACK", "1", "TURBO_TOKEN", token,
                "TURBO_API", BASE, "TURBO_TEAM", "reprise-it");
        double hitsBefore = hits("turbo");

        Services.Run first = run(project, env, "npx", "turbo", "run", "build");
        assertSucceeded(first);
        assertThat(first.output()).contains("0 cached, 1 total");
        run(project, Map.of(), "rm", "-rf", ".turbo", "packages/app/.turbo", "packages/app/dist", "node_modules/.cache");

        Services.Run second = run(project, env, "npx", "turbo", "run", "build");
        assertSucceeded(second);
        assertThat(second.output()).contains("1 cached, 1 total").contains("FULL TURBO");
        assertThat(Files.readString(pkg.resolve("dist/out.txt")).strip()).isEqualTo(marker);
        assertThat(hits("turbo")).isGreaterThan(hitsBefore);
    }

    @Test
    void nxReadsBothProjectsFromTheSelfHostedRemoteCache() throws Exception {
        Path project = Files.createDirectories(work.resolve("nx"));
        Files.writeString(project.resolve("package.json"), """
                {"name": "reprise-nx-it", "private": true, "workspaces": ["packages/*"], "devDependencies": {"nx": "22.6.1"}}
                """);
        Files.writeString(project.resolve("nx.json"), """
                {"targetDefaults": {"build": {"cache": true, "outputs": ["{projectRoot}/dist"]}}}
                """);
        String stamp = String.valueOf(System.nanoTime());
        for (String name : new String[] {"lib", "app"}) {
            Path pkg = Files.createDirectories(project.resolve("packages/" + name));
            Files.writeString(pkg.resolve("package.json"), """
                    {"name": "%s", "version": "1.0.0", "scripts": {"build": "mkdir -p dist && echo '%s %s' > dist/out.txt && echo compiling %s"}}
                    """.formatted(name, name, stamp, name));
        }
        assertSucceeded(run(project, Map.of(), "npm", "install", "--no-audit", "--no-fund", "--loglevel=error"));
        assertSucceeded(run(project, Map.of(), "git", "init", "-q"));
        Map<String, String> env = Map.of("NX_DAEMON", "false", "NX_NO_CLOUD", "true", "NX_TUI", "false", "CI", "true", "FORCE_COLOR", "0", "NO_COLOR", "1",
                "NX_SELF_HOSTED_REMOTE_CACHE_SERVER", BASE, "NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN", token);
        double hitsBefore = hits("nx");

        Services.Run first = run(project, env, "npx", "nx", "run-many", "-t", "build");
        assertSucceeded(first);
        assertThat(first.output()).contains("compiling lib").contains("compiling app").doesNotContain("[remote cache]");
        run(project, Map.of(), "rm", "-rf", ".nx", "packages/lib/dist", "packages/app/dist");

        Services.Run second = run(project, env, "npx", "nx", "run-many", "-t", "build");
        assertSucceeded(second);
        assertThat(second.output()).contains("lib:build  [remote cache]").contains("app:build  [remote cache]")
                .contains("2 out of 2 tasks");
        assertThat(Files.readString(project.resolve("packages/app/dist/out.txt")).strip()).isEqualTo("app " + stamp);
        assertThat(hits("nx")).isGreaterThanOrEqualTo(hitsBefore + 2);

        // A wrong token: Nx shows Reprise's reason (it reads only text/plain error bodies).
        run(project, Map.of(), "rm", "-rf", ".nx");
        Map<String, String> wrong = new java.util.HashMap<>(env);
        wrong.put("NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN", "rpr_" + "x".repeat(43));
        assertThat(run(project, wrong, "npx", "nx", "run-many", "-t", "build").output()).contains("unknown or revoked token")
                .doesNotContain("Misconfigured remote cache endpoint");
    }

    @Test
    void gradleTakesCompileJavaFromTheRemoteBuildCache() throws Exception {
        Path project = Files.createDirectories(work.resolve("gradle"));
        Files.writeString(project.resolve("settings.gradle"), """
                rootProject.name = 'reprise-gradle-it'
                buildCache {
                    local { enabled = false }
                    remote(HttpBuildCache) {
                        url = '%s/gradle/'
                        push = true
                        credentials { username = 'ci'; password = '%s' }
                    }
                }
                """.formatted(BASE, token));
        Files.writeString(project.resolve("build.gradle"), "apply plugin: 'java'\n");
        Path sources = Files.createDirectories(project.resolve("src/main/java/it"));
        Files.writeString(sources.resolve("Hello.java"), """
                package it;
                public class Hello { public static final String STAMP = "%s"; }
                """.formatted(System.nanoTime()));
        String home = "--gradle-user-home=" + work.resolve("gradle-home");
        double hitsBefore = hits("gradle");

        Services.Run first = run(project, Map.of(), "gradle", home, "--no-daemon", "--build-cache", "compileJava");
        assertSucceeded(first);
        assertThat(first.output()).doesNotContain("FROM-CACHE");
        byte[] compiled = Files.readAllBytes(classFile(project));
        assertSucceeded(run(project, Map.of(), "gradle", home, "--no-daemon", "clean"));

        Services.Run second = run(project, Map.of(), "gradle", home, "--no-daemon", "--build-cache", "--console=plain", "compileJava");
        assertSucceeded(second);
        assertThat(second.output()).contains(":compileJava FROM-CACHE");
        assertThat(Files.readAllBytes(classFile(project))).isEqualTo(compiled);
        assertThat(hits("gradle")).isGreaterThan(hitsBefore);
    }

    private static Path classFile(Path project) throws IOException {
        try (var files = Files.walk(project.resolve("build/classes"))) {
            return files.filter(f -> f.getFileName().toString().equals("Hello.class")).findFirst().orElseThrow();
        }
    }

    @Test
    void aGigabyteGoesUpAndComesBackThroughA256MbHeap() throws Exception {
        double maxHeap = metric("jvm_memory_max_bytes", "area=\"heap\"");
        assertThat(maxHeap).as("artifact-service runs with -Xmx256m").isPositive().isLessThanOrEqualTo(256.0 * 1024 * 1024);

        long size = 1L << 30;
        long seed = System.nanoTime();
        MessageDigest expected = MessageDigest.getInstance("SHA-256");
        try (InputStream in = new GeneratedStream(seed, size)) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                expected.update(buffer, 0, n);
            }
        }
        String digest = HexFormat.of().formatHex(expected.digest());
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        URI uri = URI.create(BASE + "/bazel/cas/" + digest);

        HttpResponse<String> put = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(5))
                .header("Authorization", "Bearer " + token)
                .PUT(HttpRequest.BodyPublishers.fromPublisher(HttpRequest.BodyPublishers.ofInputStream(() -> new GeneratedStream(seed, size)), size))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(put.statusCode()).as(put.body()).isEqualTo(200);

        HttpResponse<InputStream> get = http.send(HttpRequest.newBuilder(uri).timeout(Duration.ofMinutes(5))
                .header("Authorization", "Bearer " + token).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
        assertThat(get.statusCode()).isEqualTo(200);
        assertThat(get.headers().firstValueAsLong("Content-Length")).hasValue(size);
        MessageDigest actual = MessageDigest.getInstance("SHA-256");
        long received = 0;
        try (InputStream body = get.body()) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = body.read(buffer)) > 0; ) {
                actual.update(buffer, 0, n);
                received += n;
            }
        }
        assertThat(received).isEqualTo(size);
        assertThat(HexFormat.of().formatHex(actual.digest())).isEqualTo(digest);
        assertThat(Services.get("artifact", "/q/health/ready").status()).isEqualTo(200);

        // Leave the disk as it was: hide the entry; the collector frees the gigabyte later.
        HttpResponse<String> removed = http.send(HttpRequest.newBuilder(URI.create(BASE + "/api/v1/artifacts/entries?protocol=bazel-cas&key=" + digest))
                .header("Authorization", "Bearer " + token).DELETE().build(), HttpResponse.BodyHandlers.ofString());
        assertThat(removed.body()).contains("\"removed\":1");
    }

    /** Deterministic pseudo-random bytes, generated as they are read (never held whole). */
    private static final class GeneratedStream extends InputStream {
        private final Random random;
        private long remaining;

        GeneratedStream(long seed, long size) {
            this.random = new Random(seed);
            this.remaining = size;
        }

        @Override
        public int read() {
            byte[] one = new byte[1];
            return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
        }

        @Override
        public int read(byte[] buffer, int offset, int length) {
            if (remaining == 0) {
                return -1;
            }
            // Whole 8-byte longs keep the sequence independent of how the reader slices it.
            int n = (int) Math.min(Math.min(length, remaining), 1 << 16) & ~7;
            if (n == 0) {
                n = (int) Math.min(length, remaining);
                for (int i = 0; i < n; i++) {
                    buffer[offset + i] = (byte) random.nextInt();
                }
            } else {
                for (int i = 0; i < n; i += 8) {
                    long value = random.nextLong();
                    for (int b = 0; b < 8; b++) {
                        buffer[offset + i + b] = (byte) (value >>> (8 * b));
                    }
                }
            }
            remaining -= n;
            return n;
        }
    }

    @Test
    void mavenRestoresBothModulesFromTheBuildCacheExtensionsRemoteCache() throws Exception {
        Path mvn = maven("3.9.11"); // the extension needs Maven 3.9+; Debian ships 3.8.7
        Path project = Files.createDirectories(work.resolve("maven"));
        Files.createDirectories(project.resolve(".mvn"));
        Files.writeString(project.resolve(".mvn/extensions.xml"), """
                <extensions><extension><groupId>org.apache.maven.extensions</groupId>
                <artifactId>maven-build-cache-extension</artifactId><version>1.3.0</version></extension></extensions>
                """);
        Files.writeString(project.resolve(".mvn/maven-build-cache-config.xml"), """
                <cache xmlns="http://maven.apache.org/BUILD-CACHE-CONFIG/1.2.0"><configuration>
                  <enabled>true</enabled><hashAlgorithm>SHA-256</hashAlgorithm>
                  <remote enabled="true" saveToRemote="true" id="reprise"><url>%s/maven</url></remote>
                </configuration></cache>
                """.formatted(BASE));
        Files.writeString(project.resolve("settings.xml"), """
                <settings><servers><server><id>reprise</id><username>ci</username><password>%s</password></server></servers></settings>
                """.formatted(token));
        String stamp = String.valueOf(System.nanoTime());
        Files.writeString(project.resolve("pom.xml"), """
                <project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
                  <groupId>it.reprise.m%s</groupId><artifactId>parent</artifactId><version>1.0</version><packaging>pom</packaging>
                  <modules><module>a</module><module>b</module></modules>
                  <properties><maven.compiler.release>17</maven.compiler.release><project.build.sourceEncoding>UTF-8</project.build.sourceEncoding></properties>
                  <dependencies><dependency><groupId>junit</groupId><artifactId>junit</artifactId><version>4.13.2</version><scope>test</scope></dependency></dependencies>
                </project>
                """.formatted(stamp));
        for (String module : new String[] {"a", "b"}) {
            Files.writeString(Files.createDirectories(project.resolve(module)).resolve("pom.xml"), """
                    <project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
                      <parent><groupId>it.reprise.m%s</groupId><artifactId>parent</artifactId><version>1.0</version></parent>
                      <artifactId>%s</artifactId>%s
                    </project>
                    """.formatted(stamp, module, module.equals("b") ? "<dependencies><dependency><groupId>it.reprise.m" + stamp
                    + "</groupId><artifactId>a</artifactId><version>1.0</version></dependency></dependencies>" : ""));
        }
        Files.writeString(Files.createDirectories(project.resolve("a/src/main/java/a")).resolve("A.java"),
                "package a; public class A { public static String hello() { return \"hello " + stamp + "\"; } }\n");
        Files.writeString(Files.createDirectories(project.resolve("b/src/main/java/b")).resolve("B.java"),
                "package b; public class B { public static String shout() { return a.A.hello().toUpperCase(); } }\n");
        Files.writeString(Files.createDirectories(project.resolve("b/src/test/java/b")).resolve("BTest.java"),
                "package b; public class BTest { @org.junit.Test public void shouts() { org.junit.Assert.assertTrue(B.shout().startsWith(\"HELLO\")); } }\n");
        String[] verify = {mvn.toString(), "-B", "-s", "settings.xml", "-Dmaven.build.cache.location=" + project.resolve(".build-cache"), "verify"};
        double hitsBefore = hits("maven");

        Services.Run first = run(project, Map.of(), verify);
        assertSucceeded(first);
        assertThat(first.output()).contains("Tests run: 1, Failures: 0").contains("Saved to remote cache")
                .doesNotContain("Error downloading cache item");
        byte[] jar = Files.readAllBytes(project.resolve("b/target/b-1.0.jar"));
        run(project, Map.of(), "rm", "-rf", ".build-cache", "a/target", "b/target");

        Services.Run second = run(project, Map.of(), verify);
        assertSucceeded(second);
        assertThat(second.output()).contains("Found cached build, restoring it.reprise.m" + stamp + ":a")
                .contains("Found cached build, restoring it.reprise.m" + stamp + ":b")
                .contains("Skipping plugin execution (cached): compiler:compile")
                .doesNotContain("Compiling").doesNotContain("Tests run:");
        assertThat(Files.readAllBytes(project.resolve("b/target/b-1.0.jar"))).isEqualTo(jar);
        assertThat(hits("maven")).isGreaterThanOrEqualTo(hitsBefore + 2);
    }

    /** Apache Maven's binary distribution from Maven Central, unpacked once under .reprise/tools. */
    private static Path maven(String version) throws Exception {
        Path tools = Files.createDirectories(Services.ROOT.resolve(".reprise/tools"));
        Path mvn = tools.resolve("apache-maven-" + version + "/bin/mvn");
        if (!Files.isExecutable(mvn)) {
            String url = "https://repo.maven.apache.org/maven2/org/apache/maven/apache-maven/" + version + "/apache-maven-" + version
                    + "-bin.tar.gz";
            assertSucceeded(run(tools, Map.of(), "sh", "-c", "curl -sSf --retry 3 " + url + " | tar xz"));
        }
        return mvn;
    }

    // --- helpers ----------------------------------------------------------------------------

    /** This service's hits for one protocol, from its Prometheus endpoint. */
    private static double hits(String protocol) throws Exception {
        return metric("reprise_cache_requests_total", "protocol=\"" + protocol + "\",result=\"hit\"");
    }

    /** The sum of a metric's samples whose labels contain {@code labels}. */
    private static double metric(String name, String labels) throws Exception {
        String text = Services.text("artifact", "/q/metrics");
        double sum = 0;
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "\\{([^}]*)\\} ([0-9.eE+-]+)$").matcher(text);
        while (m.find()) {
            if (m.group(1).contains(labels)) {
                sum += Double.parseDouble(m.group(2));
            }
        }
        return sum;
    }

    private static long stat(String printStats, String name) {
        Matcher m = Pattern.compile("(?m)^" + name + "\\s+(\\d+)$").matcher(printStats);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    private static void assertSucceeded(Services.Run run) {
        assertThat(run.exitCode()).as(run.output()).isZero();
    }

    private static Services.Run run(Path dir, Map<String, String> env, String... command) throws IOException, InterruptedException {
        return Services.run(dir, env, Duration.ofMinutes(5), command);
    }
}
