package dev.reprise.taskcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Storing outputs from a workspace an untrusted build wrote, by a process that may read anything
 * (the runner is root): a symlink, or a directory swapped for one, never makes the store read
 * what it points at, so a secret outside the tree never reaches the cache (or the remote).
 */
class StoreSafetyTest {

    private static final String SECRET = "root:$6$not-for-the-cache:19000:0:99999:7:::\n";

    @TempDir
    Path temp;
    private Path work;
    private Path outside;
    private LocalCache cache;
    private final ByteArrayOutputStream notes = new ByteArrayOutputStream();

    @BeforeEach
    void workspace() throws Exception {
        work = Files.createDirectories(temp.resolve("work"));
        Files.writeString(work.resolve("build.sh"), "make\n");
        outside = Files.createDirectories(temp.resolve("outside"));
        Files.writeString(outside.resolve("shadow"), SECRET);
        cache = new LocalCache(temp.resolve("cache"));
    }

    @Test
    void aSymlinkOutputToAFileOutsideIsRecordedAsALinkAndTheRunIsNotCached() throws Exception {
        TaskCache taskCache = new TaskCache(cache, Optional.empty(), true, Set.of(), new PrintStream(notes, true, StandardCharsets.UTF_8),
                InputHashes.none());
        TaskCache.Task detected = new TaskCache.Task(work, List.of(), List.of(), List.of(), List.of("make"), false);
        TaskCache.Before before = taskCache.before(detected);
        // What the build did:
        Files.createDirectories(work.resolve("out"));
        Files.writeString(work.resolve("out/a.txt"), "built\n");
        Files.createSymbolicLink(work.resolve("out/leak"), outside.resolve("shadow"));

        assertThat(Outputs.matching(work, List.of("out/**"), Set.of())).filteredOn(o -> o.path().equals("out/leak"))
                .singleElement().satisfies(o -> {
                    assertThat(o.type()).isEqualTo("symlink");
                    assertThat(o.sha256()).isNull();
                });
        boolean stored = taskCache.store(detected, "detected", before, 0, 1, new byte[0]);
        TaskCache.Task declared = new TaskCache.Task(work, List.of(), List.of("out/**"), List.of(), List.of("make"), false);
        boolean storedDeclared = taskCache.store(declared, "declared", taskCache.before(declared), 0, 1, new byte[0]);

        assertThat(stored).isFalse();
        assertThat(storedDeclared).isFalse();
        assertThat(notes.toString(StandardCharsets.UTF_8)).contains("not caching this run: symlink 'out/leak' -> '" + outside.resolve("shadow")
                + "' points to an absolute path, outside the working tree");
        assertThat(cache.lookup("detected", true)).isEmpty();
        assertThat(TreeState.anyFileContains(cache.root(), SECRET.getBytes(StandardCharsets.UTF_8))).isFalse();
    }

    @Test
    void aFileSwappedForASymlinkAfterItWasDescribedIsNotCopied() throws Exception {
        Files.createDirectories(work.resolve("out"));
        Files.writeString(work.resolve("out/a.txt"), "harmless\n");
        List<Manifest.Output> outputs = Outputs.matching(work, List.of("out/**"), Set.of());
        Files.delete(work.resolve("out/a.txt"));
        Files.createSymbolicLink(work.resolve("out/a.txt"), outside.resolve("shadow"));

        assertThatThrownBy(() -> cache.store(manifest("swapped", outputs), work, new byte[0])).isInstanceOf(RefusedEntry.class)
                .hasMessageContaining("'out/a.txt' is no longer a regular file");
        assertThat(TreeState.anyFileContains(cache.root(), SECRET.getBytes(StandardCharsets.UTF_8))).isFalse();
        assertThat(cache.lookup("swapped", true)).isEmpty();
    }

    @Test
    void aFileBehindASymlinkedDirectoryOrASymlinkIsNotReadEvenWhenItsHashIsKnown() throws Exception {
        // The worst case: the manifest names the secret with its right hash, so only the refusal to follow links protects it.
        byte[] secret = SECRET.getBytes(StandardCharsets.UTF_8);
        Manifest.Output viaDirectory = Manifest.Output.file("out/shadow", "rw-r--r--", secret.length, Hashing.sha256(secret));
        Manifest.Output viaLink = Manifest.Output.file("shadow", "rw-r--r--", secret.length, Hashing.sha256(secret));
        Files.createSymbolicLink(work.resolve("out"), outside);
        Files.createSymbolicLink(work.resolve("shadow"), outside.resolve("shadow"));

        assertThatThrownBy(() -> cache.store(manifest("via-dir", List.of(viaDirectory)), work, new byte[0]))
                .isInstanceOf(RefusedEntry.class).hasMessageContaining("'out' in the working tree is a symlink");
        assertThatThrownBy(() -> cache.store(manifest("via-link", List.of(viaLink)), work, new byte[0]))
                .isInstanceOf(RefusedEntry.class).hasMessageContaining("'shadow' is no longer a regular file");

        assertThat(TreeState.anyFileContains(cache.root(), secret)).isFalse();
    }

    @Test
    void snapshotsAndChangesSeeSymlinksAsLinksAndNeverWalkThroughThem() throws Exception {
        Files.createSymbolicLink(work.resolve("linked-dir"), outside);
        Map<String, Outputs.Seen> before = Outputs.snapshot(work, Set.of());
        Files.createSymbolicLink(work.resolve("leak"), outside.resolve("shadow"));

        List<Manifest.Output> changed = Outputs.changed(work, before, Set.of());

        assertThat(before).containsKey("linked-dir").doesNotContainKey("linked-dir/shadow");
        assertThat(before.get("linked-dir").type()).isEqualTo("symlink");
        assertThat(changed).containsExactly(Manifest.Output.symlink("leak", outside.resolve("shadow").toString()));
    }

    private static Manifest manifest(String key, List<Manifest.Output> outputs) {
        return new Manifest(1, key, List.of("make"), 0, 1, "now", outputs, Hashing.sha256(new byte[0]), 0);
    }
}
