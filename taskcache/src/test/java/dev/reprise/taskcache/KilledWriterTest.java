package dev.reprise.taskcache;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A writer process killed with SIGKILL in the middle of storing leaves no entry (or a whole one). */
class KilledWriterTest {

    @TempDir
    Path temp;

    /** The child: stores many outputs under key "killed", slowly enough to be killed mid-way. */
    public static void main(String[] args) throws Exception {
        Path work = Path.of(args[0]);
        LocalCache cache = new LocalCache(Path.of(args[1]));
        List<Manifest.Output> outputs = Outputs.matching(work, List.of("out/**"), Set.of());
        cache.store(new Manifest(1, "killed", List.of("x"), 0, 1, Instant.now().toString(), outputs, Hashing.sha256(new byte[0]), 0),
                work, new byte[0]);
    }

    @Test
    void aWriterKilledMidWriteLeavesNothingVisible() throws Exception {
        Path work = Files.createDirectories(temp.resolve("work/out"));
        byte[] chunk = new byte[256 * 1024];
        for (int i = 0; i < 1200; i++) {
            chunk[0] = (byte) i;
            chunk[1] = (byte) (i >> 8);
            Files.write(work.resolve("f" + i), chunk);
        }
        Path cacheDir = temp.resolve("cache");
        new LocalCache(cacheDir);
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), KilledWriterTest.class.getName(), temp.resolve("work").toString(), cacheDir.toString())
                .inheritIO().start();
        // Wait until it is copying outputs, then kill -9.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
        while (System.nanoTime() < deadline && filesUnder(cacheDir.resolve("tmp")) < 50) {
            Thread.sleep(5);
        }
        assertThat(filesUnder(cacheDir.resolve("tmp"))).as("the child got to work").isGreaterThanOrEqualTo(50);
        child.destroyForcibly();
        assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
        assertThat(child.exitValue()).as("killed, not finished").isNotZero();

        LocalCache cache = new LocalCache(cacheDir);
        assertThat(cache.lookup("killed", true)).isEmpty();
        assertThat(cache.verify()).isEmpty();
        try (Stream<Path> entries = Files.list(cacheDir.resolve("entries"))) {
            assertThat(entries.toList()).isEmpty();
        }
    }

    private static long filesUnder(Path dir) throws Exception {
        if (!Files.exists(dir)) {
            return 0;
        }
        try (Stream<Path> all = Files.walk(dir)) {
            return all.filter(Files::isRegularFile).count();
        } catch (java.io.UncheckedIOException racing) {
            return 0;
        }
    }
}
