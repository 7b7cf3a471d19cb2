package dev.reprise.taskcache;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LocalCacheTest {

    @TempDir
    Path temp;

    @Test
    void outputsComeBackWithTheirBytesModesSymlinksAndEmptyDirectories() throws Exception {
        Path work = Files.createDirectories(temp.resolve("work"));
        Files.createDirectories(work.resolve("out/empty"));
        Files.writeString(work.resolve("out/tool"), "#!/bin/sh\necho hi\n");
        Files.setPosixFilePermissions(work.resolve("out/tool"), PosixFilePermissions.fromString("rwxr-x---"));
        Files.write(work.resolve("out/data.bin"), new byte[] {0, 1, 2, (byte) 255});
        Files.createSymbolicLink(work.resolve("out/link"), Path.of("tool"));
        List<Manifest.Output> outputs = Outputs.matching(work, List.of("out", "out/**"), Set.of());
        TerminalLog log = new TerminalLog();
        log.append(TerminalLog.OUT, "compiling\n".getBytes(), 0, 10);
        log.append(TerminalLog.ERR, "warning\n".getBytes(), 0, 8);
        byte[] logBytes = log.toByteArray();
        LocalCache cache = new LocalCache(temp.resolve("cache"));
        Manifest manifest = new Manifest(1, "k1", List.of("make"), 3, 10, Instant.now().toString(), outputs, Hashing.sha256(logBytes), logBytes.length);
        assertThat(cache.store(manifest, work, logBytes)).isTrue();

        Path elsewhere = Files.createDirectories(temp.resolve("elsewhere"));
        Manifest found = cache.lookup("k1", true).orElseThrow();
        cache.restore(found, elsewhere);

        assertThat(found.exitCode()).isEqualTo(3);
        assertThat(Files.readString(elsewhere.resolve("out/tool"))).isEqualTo("#!/bin/sh\necho hi\n");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(elsewhere.resolve("out/tool")))).isEqualTo("rwxr-x---");
        assertThat(Files.readAllBytes(elsewhere.resolve("out/data.bin"))).containsExactly(0, 1, 2, 255);
        assertThat(Files.readSymbolicLink(elsewhere.resolve("out/link"))).isEqualTo(Path.of("tool"));
        assertThat(Files.isDirectory(elsewhere.resolve("out/empty"))).isTrue();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        try (var in = cache.log("k1")) {
            TerminalLog.replay(in, out, err);
        }
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("compiling\n");
        assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo("warning\n");
    }

    @Test
    void tenConcurrentWritersOfOneKeyLeaveOneValidEntry() throws Exception {
        Path work = Files.createDirectories(temp.resolve("work"));
        Files.write(work.resolve("big.bin"), new byte[4 << 20]);
        LocalCache cache = new LocalCache(temp.resolve("cache"));
        List<Manifest.Output> outputs = Outputs.matching(work, List.of("big.bin"), Set.of());
        ExecutorService pool = Executors.newFixedThreadPool(10);
        List<Future<Boolean>> writers = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            int writer = i;
            Callable<Boolean> store = () -> {
                byte[] log = ("writer " + writer + "\n").getBytes();
                return cache.store(new Manifest(1, "same", List.of("x"), 0, 1, Instant.now().toString(), outputs, Hashing.sha256(log),
                        log.length), work, log);
            };
            writers.add(pool.submit(store));
        }
        int won = 0;
        for (Future<Boolean> writer : writers) {
            won += writer.get() ? 1 : 0;
        }
        pool.shutdown();

        assertThat(won).isEqualTo(1);
        assertThat(cache.lookup("same", true)).isPresent();
        assertThat(cache.verify()).isEmpty();
        try (Stream<Path> leftovers = Files.list(temp.resolve("cache/tmp"))) {
            assertThat(leftovers.toList()).isEmpty();
        }
    }

    @Test
    void threadsOfOneProcessCountingAtOnceLoseNoCount() throws Exception {
        // Two caches on one directory, as a runner's concurrent builds have: one file lock per JVM
        // would throw OverlappingFileLockException without the in-process turn-taking.
        Path root = temp.resolve("cache");
        List<LocalCache> caches = List.of(new LocalCache(root), new LocalCache(root));
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(8);
        List<java.util.concurrent.Future<?>> done = new java.util.ArrayList<>();
        for (int i = 0; i < 400; i++) {
            LocalCache cache = caches.get(i % 2);
            done.add(pool.submit(() -> cache.updateStats(s -> s.hit(1))));
        }
        for (java.util.concurrent.Future<?> f : done) {
            f.get(30, java.util.concurrent.TimeUnit.SECONDS);
        }
        pool.shutdown();

        assertThat(caches.get(0).updateStats(s -> s).hits()).isEqualTo(400);
    }

    @Test
    void aFlippedByteIsFoundByVerifyAndIsAMiss() throws Exception {
        Path work = Files.createDirectories(temp.resolve("work"));
        Files.writeString(work.resolve("a.txt"), "the output");
        LocalCache cache = new LocalCache(temp.resolve("cache"));
        for (String key : List.of("good", "bad")) {
            byte[] log = new byte[0];
            cache.store(new Manifest(1, key, List.of("x"), 0, 1, "now", Outputs.matching(work, List.of("a.txt"), Set.of()),
                    Hashing.sha256(log), 0), work, log);
        }
        Path stored;
        try (Stream<Path> files = Files.list(temp.resolve("cache/entries/bad/files"))) {
            stored = files.findFirst().orElseThrow();
        }
        byte[] bytes = Files.readAllBytes(stored);
        bytes[0] ^= 1;
        Files.write(stored, bytes);

        assertThat(cache.verify()).containsExactly("bad");
        assertThat(cache.lookup("bad", true)).isEmpty();
        assertThat(cache.lookup("good", true)).isPresent();
    }

    @Test
    void aTamperedManifestIsAMissEvenWithoutDeepVerification() throws Exception {
        Path work = Files.createDirectories(temp.resolve("work"));
        Files.writeString(work.resolve("a.txt"), "x");
        LocalCache cache = new LocalCache(temp.resolve("cache"));
        cache.store(new Manifest(1, "k", List.of("x"), 0, 1, "now", Outputs.matching(work, List.of("a.txt"), Set.of()),
                Hashing.sha256(new byte[0]), 0), work, new byte[0]);
        Path manifest = temp.resolve("cache/entries/k/manifest.json");
        Files.writeString(manifest, Files.readString(manifest).replace("\"exitCode\" : 0", "\"exitCode\" : 1"));
        assertThat(cache.lookup("k", false)).isEmpty();
    }

    @Test
    void abandonedWorkOfACrashedWriterIsInvisibleAndPrunedLater() throws Exception {
        LocalCache cache = new LocalCache(temp.resolve("cache"));
        Path abandoned = Files.createDirectories(temp.resolve("cache/tmp/k.crashed/files"));
        Files.writeString(abandoned.resolve("half"), "half-written");
        assertThat(cache.lookup("k", true)).isEmpty();
        Files.setLastModifiedTime(abandoned.getParent(), FileTime.from(Instant.now().minus(Duration.ofHours(2))));
        cache.prune(Long.MAX_VALUE, Duration.ofDays(30));
        assertThat(Files.exists(abandoned)).isFalse();
    }

    @Test
    void pruneRemovesOldThenLeastRecentlyUsedEntries() throws Exception {
        Path work = Files.createDirectories(temp.resolve("work"));
        LocalCache cache = new LocalCache(temp.resolve("cache"));
        for (String key : List.of("old", "lru", "recent")) {
            Files.write(work.resolve(key), new byte[1000]);
            cache.store(new Manifest(1, key, List.of("x"), 0, 1, "now", Outputs.matching(work, List.of(key), Set.of()),
                    Hashing.sha256(new byte[0]), 0), work, new byte[0]);
        }
        Files.setLastModifiedTime(temp.resolve("cache/entries/old"), FileTime.from(Instant.now().minus(Duration.ofDays(40))));
        Files.setLastModifiedTime(temp.resolve("cache/entries/lru"), FileTime.from(Instant.now().minus(Duration.ofDays(2))));

        // Room for one of the three (similar) entries.
        LocalCache.Pruned pruned = cache.prune(cache.usage()[1] / 3 + 100, Duration.ofDays(30));

        assertThat(pruned.entries()).isEqualTo(2);
        assertThat(cache.lookup("recent", true)).isPresent();
        assertThat(cache.lookup("lru", true)).isEmpty();
        assertThat(cache.lookup("old", true)).isEmpty();
    }
}
