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
 * Real build tools (ccache, Bazel over HTTP and gRPC; the others in BuildToolCachesIT) against the running artifact-service, unmodified, pointed at its base URL:
 * each builds a small project, its local cache is cleared, it builds again and reports remote
 * hits by its own output or statistics (and the service counts them). Also a 1 GiB blob up and
 * down through the service running with its heap capped at 256 MB.
 */
class ArtifactIT {

    private static final int PORT = Services.PORTS.get("artifact");
    static final String BASE = "http://127.0.0.1:" + PORT;
    private static final int GRPC_PORT = Integer.parseInt(System.getenv().getOrDefault("REPRISE_ARTIFACT_GRPC_PORT", "8093"));
    static Path work;
    static String token;

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
        Path project = shoutWorkspace("bazel", "hello bazel");
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

    /** A Bazel workspace with one genrule, //:shout, upper-casing in.txt (which says {@code text} and a stamp). */
    private static Path shoutWorkspace(String name, String text) throws IOException {
        Path project = Files.createDirectories(work.resolve(name));
        Files.writeString(project.resolve("WORKSPACE"), "");
        // Bazel's server is a short-lived JVM here: C1 alone costs it far less CPU on 2 shared cores.
        Files.writeString(project.resolve(".bazelrc"), "startup --host_jvm_args=" + Services.SHORT_LIVED_JVM + "\n");
        Files.writeString(project.resolve("in.txt"), text + " " + System.nanoTime() + "\n");
        Files.writeString(project.resolve("BUILD"), """
                genrule(
                    name = "shout",
                    srcs = ["in.txt"],
                    outs = ["out.txt"],
                    cmd = "tr a-z A-Z < $< > $@",
                )
                """);
        return project;
    }

    @Test
    void bazelOverGrpcReportsARemoteCacheHitAfterACleanExpunge() throws Exception {
        Path project = shoutWorkspace("bazel-grpc", "hello grpc");
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

    // --- helpers ----------------------------------------------------------------------------

    /** This service's hits for one protocol, from its Prometheus endpoint. */
    static double hits(String protocol) throws Exception {
        return metric("reprise_cache_requests_total", "protocol=\"" + protocol + "\",result=\"hit\"");
    }

    /** The sum of a metric's samples whose labels contain {@code labels}. */
    static double metric(String name, String labels) throws Exception {
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

    static long stat(String printStats, String name) {
        Matcher m = Pattern.compile("(?m)^" + name + "\\s+(\\d+)$").matcher(printStats);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    static void assertSucceeded(Services.Run run) {
        assertThat(run.exitCode()).as(run.output()).isZero();
    }

    static Services.Run run(Path dir, Map<String, String> env, String... command) throws IOException, InterruptedException {
        return Services.run(dir, env, Duration.ofMinutes(5), command);
    }
}
