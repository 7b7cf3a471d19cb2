package dev.reprise.taskcache;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The remote level against a small in-process artifact service (the actions/cache-style API the
 * real one speaks), serving archives a hostile tenant made: they are refused while they are read,
 * never enter the local cache, and leave the workspace, the cache and everything else untouched.
 */
class RemoteCacheTest {

    @TempDir
    Path temp;
    private Path work;
    private Path outside;
    private FakeArtifactService service;
    private RemoteCache remote;
    private final ByteArrayOutputStream notes = new ByteArrayOutputStream();

    @BeforeEach
    void start() throws Exception {
        work = Files.createDirectories(temp.resolve("work"));
        Files.writeString(work.resolve("README"), "checked out\n");
        outside = Files.createDirectories(temp.resolve("outside"));
        Files.writeString(outside.resolve("secret"), "top secret\n");
        service = new FakeArtifactService();
        remote = new RemoteCache(service.url(), "token", Duration.ofSeconds(10));
    }

    @AfterEach
    void stop() {
        service.stop();
    }

    @Test
    void aStoredEntryRoundTripsThroughTheRemote() throws Exception {
        LocalCache writer = new LocalCache(temp.resolve("writer-cache"));
        Path built = Files.createDirectories(temp.resolve("built/out"));
        Files.writeString(built.resolve("a.txt"), "built\n");
        Files.createSymbolicLink(built.resolve("link"), Path.of("a.txt"));
        List<Manifest.Output> outputs = Outputs.matching(built.getParent(), List.of("out", "out/**"), Set.of());
        writer.store(new Manifest(1, "k", List.of("make"), 0, 1, "now", outputs, Hashing.sha256(new byte[0]), 0), built.getParent(), new byte[0]);
        assertThat(remote.save("k", writer, new PrintStream(notes))).isTrue();

        LocalCache reader = new LocalCache(temp.resolve("cache"));
        assertThat(restore(reader, "k")).isPresent();

        assertThat(Files.readString(work.resolve("out/link"))).isEqualTo("built\n");
        assertThat(Files.readSymbolicLink(work.resolve("out/link"))).isEqualTo(Path.of("a.txt"));
    }

    @Test
    void anArchiveWithASymlinkOutOfTheTreeIsRefusedAndNeverInstalled() throws Exception {
        service.serve("escape", new HostileEntry("escape").file("a.txt", "a")
                .output(Manifest.Output.symlink("esc", outside.toString())).file("esc/planted", "pwned").zip());
        service.serve("up", new HostileEntry("up").output(Manifest.Output.symlink("link", "../outside/secret")).zip());
        LocalCache cache = new LocalCache(temp.resolve("cache"));

        for (String key : List.of("escape", "up")) {
            assertThat(refused(cache, key)).as(key).contains("refusing the remote entry for " + key + ": symlink");
            assertThat(cache.lookup(key, true)).as("never installed").isEmpty();
        }
        assertThat(Files.exists(outside.resolve("planted"))).isFalse();
    }

    @Test
    void aSymlinkedDirectoryPlantedInTheWorkspaceIsNeverWrittenThroughByARemoteEntry() throws Exception {
        Files.createSymbolicLink(work.resolve("out"), outside);
        service.serve("k", new HostileEntry("k").file("a.txt", "a").file("out/secret", "overwritten").zip());
        LocalCache cache = new LocalCache(temp.resolve("cache"));

        assertThat(refused(cache, "k")).contains("not restoring the remote entry k: 'out' in the working tree is a symlink");
        assertThat(Files.readString(outside.resolve("secret"))).isEqualTo("top secret\n");
    }

    @Test
    void archiveMembersWithPathsOfTheirOwnAreRefused() throws Exception {
        LocalCache cache = new LocalCache(temp.resolve("cache"));
        List<String> names = List.of("../../escaped", "/" + temp.resolve("escaped"), "files/../../../escaped", "files/x/../../../escaped",
                "log.bin/../../escaped", "files/" + "0".repeat(63) + "g", "other.txt");
        int i = 0;
        for (String name : names) {
            String key = "member-" + i++;
            service.serve(key, new HostileEntry(key).file("a.txt", "a").member(name, "escaped".getBytes()).zip());
            assertThat(refused(cache, key)).as(name).contains("refusing the remote entry for " + key + ": the archive has an unexpected member");
        }
        // The same name twice is refused too (the second would otherwise replace what was checked).
        // ZipOutputStream will not write a name twice: the second "log.bin" is renamed in the bytes.
        byte[] twice = new HostileEntry("twice").file("a.txt", "a").member("log.biX", "second".getBytes()).zip();
        service.serve("twice", new String(twice, StandardCharsets.ISO_8859_1).replace("log.biX", "log.bin").getBytes(StandardCharsets.ISO_8859_1));
        assertThat(refused(cache, "twice")).contains("the archive has 'log.bin' twice");

        try (Stream<Path> all = Files.walk(temp)) {
            assertThat(all.filter(p -> p.getFileName().toString().equals("escaped"))).isEmpty();
        }
    }

    @Test
    void aZipBombOverTheByteLimitIsRefusedWhileItIsDecompressed() throws Exception {
        LocalCache cache = new LocalCache(temp.resolve("cache"), new RestoreLimits(1 << 20, 1000));
        // 64 MiB of zeros in about 64 KB, under a blob name that claims nothing about its size.
        ByteArrayOutputStream bomb = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bomb)) {
            zip.putNextEntry(new ZipEntry("files/" + "a".repeat(64)));
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 64; i++) {
                zip.write(zeros);
            }
            zip.closeEntry();
        }
        assertThat(bomb.size()).isLessThan(200_000);
        service.serve("bomb", bomb.toByteArray());

        assertThat(refused(cache, "bomb")).contains("refusing the remote entry for bomb: entry bomb expands to more than 1048576 bytes,"
                + " the restore limit (maxBytes)");
        assertThat(cache.usage()[0]).isZero();
    }

    @Test
    void anArchiveWithMoreMembersThanTheEntryLimitIsRefused() throws Exception {
        LocalCache cache = new LocalCache(temp.resolve("cache"), new RestoreLimits(1 << 20, 10));
        HostileEntry many = new HostileEntry("many");
        for (int i = 0; i < 20; i++) {
            many.file("f" + i, "content " + i);
        }
        service.serve("many", many.zip());

        assertThat(refused(cache, "many")).contains("entry many has more than 10 entries, the restore limit (maxEntries)");
    }

    @Test
    void aRemoteBlobThatDoesNotMatchItsHashIsNeverInstalled() throws Exception {
        LocalCache cache = new LocalCache(temp.resolve("cache"));
        String promised = Hashing.sha256("expected".getBytes(StandardCharsets.UTF_8));
        service.serve("corrupt", new HostileEntry("corrupt").file("ok.txt", "fine")
                .output(Manifest.Output.file("bad.txt", "rw-r--r--", 8, promised)).blob(promised, "tampered".getBytes(StandardCharsets.UTF_8)).zip());

        assertThat(refused(cache, "corrupt")).contains("the remote entry for corrupt is damaged");
        assertThat(cache.lookup("corrupt", false)).isEmpty();
    }

    /** Restores {@code key} as a build would (the local cache misses, the remote answers). */
    private Optional<TaskCache.Result> restore(LocalCache cache, String key) throws IOException {
        TaskCache taskCache = new TaskCache(cache, Optional.of(remote), true, Set.of(), new PrintStream(notes, true, StandardCharsets.UTF_8),
                InputHashes.none());
        return taskCache.restore(new TaskCache.Task(work, List.of(), List.of(), List.of(), List.of("make"), false), key, System.nanoTime(),
                OutputStream.nullOutputStream(), OutputStream.nullOutputStream());
    }

    /** Asserts a miss that left the workspace, the outside and the cache's tmp/ as they were. @return the notes it printed */
    private String refused(LocalCache cache, String key) throws IOException {
        Map<String, String> workBefore = TreeState.of(work);
        Map<String, String> outsideBefore = TreeState.of(outside);
        int noted = notes.size();

        assertThat(restore(cache, key)).as(key).isEmpty();

        assertThat(TreeState.of(work)).as(key + ": the workspace is untouched").isEqualTo(workBefore);
        assertThat(TreeState.of(outside)).as(key + ": outside is untouched").isEqualTo(outsideBefore);
        try (Stream<Path> leftovers = Files.list(cache.root().resolve("tmp"))) {
            assertThat(leftovers).as(key + ": nothing unpacked is left").isEmpty();
        }
        return notes.toString(StandardCharsets.UTF_8).substring(noted);
    }

    /** The artifact service's cache API, enough for RemoteCache: lookup by key, download, upload. */
    private static final class FakeArtifactService {
        private final HttpServer server;
        private final Map<String, byte[]> archives = new ConcurrentHashMap<>();

        FakeArtifactService() throws IOException {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.createContext("/api/v1/caches", this::handle);
            server.start();
        }

        URI url() {
            return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/");
        }

        /** Serves {@code archive} as the entry for task key {@code key}. */
        void serve(String key, byte[] archive) {
            archives.put("task-" + key, archive);
        }

        void stop() {
            server.stop(0);
        }

        private void handle(HttpExchange exchange) throws IOException {
            try (exchange) {
                String path = exchange.getRequestURI().getPath();
                String query = exchange.getRequestURI().getRawQuery();
                String key = query == null ? null : URLDecoder.decode(query.replaceFirst("^key=([^&]*).*$", "$1"), StandardCharsets.UTF_8);
                if (exchange.getRequestMethod().equals("PUT")) {
                    archives.put(key, exchange.getRequestBody().readAllBytes());
                    exchange.sendResponseHeaders(201, -1);
                } else if (path.equals("/api/v1/caches") && archives.containsKey(key)) {
                    byte[] body = ("{\"matchedKey\":\"" + key + "\",\"archiveUrl\":\"/api/v1/caches/"
                            + URLEncoderless.hex(key) + "/archive\"}").getBytes(StandardCharsets.UTF_8);
                    exchange.sendResponseHeaders(200, body.length);
                    exchange.getResponseBody().write(body);
                } else if (path.endsWith("/archive")) {
                    byte[] archive = archives.get(URLEncoderless.unhex(path.split("/")[4]));
                    exchange.sendResponseHeaders(200, archive.length);
                    exchange.getResponseBody().write(archive);
                } else {
                    exchange.sendResponseHeaders(204, -1);
                }
            }
        }
    }

    /** Keys as URL path segments without any escaping questions. */
    private static final class URLEncoderless {
        static String hex(String text) {
            return java.util.HexFormat.of().formatHex(text.getBytes(StandardCharsets.UTF_8));
        }

        static String unhex(String hex) {
            return new String(java.util.HexFormat.of().parseHex(hex), StandardCharsets.UTF_8);
        }
    }
}
