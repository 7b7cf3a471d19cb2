package dev.reprise.taskcache;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Task cache figures (bench/run taskcache; never part of the test suite): the warm lookup of a
 * task with 10,000 input files, and a real compile's restore time against its own run time.
 */
@Tag("bench")
class TaskCacheBench {

    @TempDir
    Path temp;

    @Test
    void lookupOnTenThousandInputsAndRestoreVersusRun() throws Exception {
        Path work = Files.createDirectories(temp.resolve("work"));
        byte[] content = new byte[2048];
        for (int i = 0; i < 10_000; i++) {
            Path file = work.resolve("src/m" + (i / 500) + "/f" + i + ".txt");
            Files.createDirectories(file.getParent());
            content[0] = (byte) i;
            content[1] = (byte) (i >> 8);
            Files.write(file, content);
            Files.setLastModifiedTime(file, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() - 60_000));
        }
        LocalCache local = new LocalCache(temp.resolve("cache"));
        TaskCache cache = new TaskCache(local, Optional.empty(), true, Set.of(), System.err);
        TaskCache.Task task = new TaskCache.Task(work, List.of("src/**"), List.of("out.txt"), List.of(), List.of("sh", "-c", "echo x > out.txt"), false);
        Map<String, String> env = System.getenv();

        long coldStart = System.nanoTime();
        String key = cache.key(task, env);
        double coldMs = (System.nanoTime() - coldStart) / 1e6;
        cache.run(task, env, new ByteArrayOutputStream(), new ByteArrayOutputStream());
        for (int i = 0; i < 5; i++) {
            cache.key(task, env); // JIT warm-up
        }
        double[] lookups = new double[200];
        for (int i = 0; i < lookups.length; i++) {
            long t0 = System.nanoTime();
            String again = cache.key(task, env);
            boolean hit = local.lookup(again, true).isPresent();
            lookups[i] = (System.nanoTime() - t0) / 1e6;
            if (!again.equals(key) || !hit) {
                throw new AssertionError("the warm lookup must hit the same key");
            }
        }
        Arrays.sort(lookups);

        // A real task: javac compiling 300 classes; then its restore.
        Path project = Files.createDirectories(temp.resolve("javac/src/p"));
        for (int i = 0; i < 300; i++) {
            Files.writeString(project.resolve("C" + i + ".java"), "package p; public class C" + i + " { public int f(int x) { return x * " + i
                    + " + new java.util.ArrayList<String>(java.util.List.of(\"a\", \"b\")).size(); } }\n");
        }
        Path javacRoot = temp.resolve("javac");
        String javac = Path.of(System.getProperty("java.home"), "bin", "javac").toString();
        TaskCache.Task compile = new TaskCache.Task(javacRoot, List.of("src/**"), List.of("classes/**"), List.of(),
                List.of("sh", "-c", javac + " -d classes src/p/*.java"), false);
        TaskCache.Result run = cache.run(compile, env, new ByteArrayOutputStream(), new ByteArrayOutputStream());
        List<Double> restores = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            LocalCache.deleteTree(javacRoot.resolve("classes"));
            TaskCache.Result restored = cache.run(compile, env, new ByteArrayOutputStream(), new ByteArrayOutputStream());
            if (!restored.hit()) {
                throw new AssertionError("the second compile must be a hit");
            }
            restores.add((double) restored.millis());
        }
        restores.sort(Double::compare);
        double restoreMedian = restores.get(restores.size() / 2);

        String json = String.format(Locale.ROOT, """
                {"date": "%s", "inputs": 10000, "input_bytes_each": 2048,
                 "lookup_cold_ms": %.1f, "lookup_warm_p50_ms": %.2f, "lookup_warm_p99_ms": %.2f, "lookup_warm_max_ms": %.2f, "lookups": %d,
                 "javac_classes": 300, "javac_run_ms": %d, "restore_median_ms": %.1f, "restore_over_run": %.3f}
                """, java.time.Instant.now(), coldMs, lookups[lookups.length / 2], lookups[(int) Math.ceil(lookups.length * 0.99) - 1],
                lookups[lookups.length - 1], lookups.length, run.millis(), restoreMedian, restoreMedian / run.millis());
        System.out.println(json);
        String out = System.getProperty("bench.results");
        if (out != null) {
            Files.writeString(Path.of(out), json);
        }
    }
}
