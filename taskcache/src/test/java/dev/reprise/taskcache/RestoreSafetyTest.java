package dev.reprise.taskcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
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
 * Restoring from the local cache an entry a hostile tenant made (its hashes right, so only the
 * safety checks stand in the way), into a workspace an untrusted build may have planted symlinks
 * in: a refused entry is a miss with a note, and neither the workspace nor anything outside it
 * changes.
 */
class RestoreSafetyTest {

    @TempDir
    Path temp;
    private Path work;
    private Path outside;
    private final ByteArrayOutputStream notes = new ByteArrayOutputStream();

    @BeforeEach
    void workspace() throws Exception {
        work = Files.createDirectories(temp.resolve("work"));
        Files.writeString(work.resolve("README"), "checked out\n");
        outside = Files.createDirectories(temp.resolve("outside"));
        Files.writeString(outside.resolve("secret"), "top secret\n");
    }

    @Test
    void symlinksLeavingTheTreeAreRefusedAndNothingIsWritten() throws Exception {
        LocalCache cache = new LocalCache(temp.resolve("cache"));
        Map<String, HostileEntry> entries = Map.of(
                "absolute", new HostileEntry("absolute").file("a.txt", "a").output(Manifest.Output.symlink("link", outside.resolve("secret").toString())),
                "up-and-out", new HostileEntry("up-and-out").output(Manifest.Output.symlink("sub/link", "../../outside/secret")),
                "write-through-absolute", new HostileEntry("write-through-absolute")
                        .output(Manifest.Output.symlink("esc", outside.toString())).file("esc/planted", "pwned"),
                // Even pointing inside: a later write through a symlink of the same entry is never made.
                "write-through-inside", new HostileEntry("write-through-inside").output(Manifest.Output.symlink("esc", "sub")).file("esc/x", "x"),
                // L -> "." makes "L/.." the workspace's parent although the text stays inside.
                "dotdot-after-a-name", new HostileEntry("dotdot-after-a-name").output(Manifest.Output.symlink("L", "."))
                        .output(Manifest.Output.symlink("a", "L/../outside/secret")));
        for (Map.Entry<String, HostileEntry> entry : entries.entrySet()) {
            entry.getValue().plant(cache.root());
            Manifest manifest = cache.lookup(entry.getKey(), true).orElseThrow();
            assertThatThrownBy(() -> cache.restore(manifest, work)).as(entry.getKey()).isInstanceOf(RefusedEntry.class)
                    .hasMessageContaining("symlink");

            String note = refusedThroughTaskCache(cache, entry.getKey(), true);
            assertThat(note).as(entry.getKey()).contains("not restoring the local entry " + entry.getKey());
            assertThat(cache.lookup(entry.getKey(), true)).as("an unsafe entry is removed").isEmpty();
        }
        assertThat(Files.readString(outside.resolve("secret"))).isEqualTo("top secret\n");
        assertThat(Files.exists(outside.resolve("planted"))).isFalse();
    }

    @Test
    void aSymlinkedDirectoryPlantedInTheWorkspaceIsNeverWrittenThrough() throws Exception {
        LocalCache cache = new LocalCache(temp.resolve("cache"));
        Files.createSymbolicLink(work.resolve("out"), outside);
        Files.createDirectories(work.resolve("deep/dir"));
        Files.createSymbolicLink(work.resolve("deep/dir/link"), outside);
        Files.createSymbolicLink(work.resolve("madeadir"), outside);
        // Good entries: only the planted symlinks make them dangerous.
        new HostileEntry("via-out").file("b.txt", "b").file("out/secret", "overwritten").plant(cache.root());
        new HostileEntry("via-deep").file("deep/dir/link/new", "new").plant(cache.root());
        new HostileEntry("dir-over-link").output(Manifest.Output.dir("madeadir", "rwxr-xr-x")).plant(cache.root());

        for (String key : List.of("via-out", "via-deep", "dir-over-link")) {
            String note = refusedThroughTaskCache(cache, key, true);
            assertThat(note).as(key).contains("a symlink");
            assertThat(cache.lookup(key, true)).as("the entry is fine, the workspace is in its way: kept").isPresent();
        }
        assertThat(note()).contains("'out' in the working tree is a symlink; refusing to write through it");
        assertThat(Files.readString(outside.resolve("secret"))).isEqualTo("top secret\n");
        assertThat(Files.exists(outside.resolve("new"))).isFalse();
        assertThat(Files.exists(work.resolve("b.txt"))).as("nothing of a refused entry is installed").isFalse();
    }

    @Test
    void aSymlinkPlantedWhereAFileGoesIsReplacedNotWrittenThrough() throws Exception {
        LocalCache cache = new LocalCache(temp.resolve("cache"));
        Files.createSymbolicLink(work.resolve("result.txt"), outside.resolve("secret"));
        new HostileEntry("k").file("result.txt", "fresh\n").plant(cache.root());

        assertThat(taskCache(cache, true).restore(task(), "k", System.nanoTime(), OutputStream.nullOutputStream(),
                OutputStream.nullOutputStream())).isPresent();

        assertThat(Files.isSymbolicLink(work.resolve("result.txt"))).isFalse();
        assertThat(Files.readString(work.resolve("result.txt"))).isEqualTo("fresh\n");
        assertThat(Files.readString(outside.resolve("secret"))).isEqualTo("top secret\n");
    }

    @Test
    void absoluteDotDotAndMalformedPathsAreRefused() throws Exception {
        LocalCache cache = new LocalCache(temp.resolve("cache"));
        List<String> paths = List.of("/" + temp.resolve("escaped"), "../escaped", "a/../../escaped", "a/./b", "./a", "a//b", "a/", "",
                "a\u0000b", "..\\escaped");
        int i = 0;
        for (String path : paths) {
            String key = "bad-path-" + i++;
            new HostileEntry(key).file("fine.txt", "fine").file(path, "escaped").plant(cache.root());
            assertThat(refusedThroughTaskCache(cache, key, true)).as(path).contains("not restoring");
        }
        // A blob name is a path in the cache too: a "hash" that climbs out of it is refused.
        Manifest.Output readsAnyFile = new Manifest.Output("copy-of-secret", "file", "rw-r--r--", 11, "../../../../outside/secret", null);
        new HostileEntry("bad-blob-name").output(readsAnyFile).plant(cache.root());
        Manifest manifest = new com.fasterxml.jackson.databind.ObjectMapper().readValue(
                cache.entryDirectory("bad-blob-name").resolve("manifest.json").toFile(), Manifest.class);
        assertThatThrownBy(() -> cache.restore(manifest, work)).isInstanceOf(RefusedEntry.class).hasMessageContaining("sha256");

        assertThat(Files.exists(work.resolve("copy-of-secret"))).isFalse();
        assertThat(Files.exists(temp.resolve("escaped"))).isFalse();
        assertThat(Files.exists(work.resolve("fine.txt"))).isFalse();
    }

    @Test
    void aDirectoryIsNotReplacedByAFileNorAFileByADirectory() throws Exception {
        LocalCache cache = new LocalCache(temp.resolve("cache"));
        Files.createDirectories(work.resolve("d"));
        Files.writeString(work.resolve("d/keep"), "keep");
        Files.writeString(work.resolve("f"), "a file");
        new HostileEntry("file-over-dir").file("d", "replaced").plant(cache.root());
        new HostileEntry("dir-over-file").output(Manifest.Output.dir("f", "rwxr-xr-x")).plant(cache.root());
        new HostileEntry("under-a-file").file("f/x", "x").plant(cache.root());
        new HostileEntry("twice").file("t", "one").file("t", "two").plant(cache.root());
        new HostileEntry("under-own-file").file("g", "g").file("g/x", "x").plant(cache.root());

        for (String key : List.of("file-over-dir", "dir-over-file", "under-a-file", "twice", "under-own-file")) {
            assertThat(refusedThroughTaskCache(cache, key, true)).as(key).contains("not restoring");
        }
        assertThat(note()).contains("'d' is a directory in the working tree and the entry has a file there")
                .contains("'f' is a file in the working tree and the entry has a dir there")
                .contains("'t' is listed twice");
    }

    @Test
    void aCorruptedBlobIsNeverRestoredEvenWithoutVerifyOnRead() throws Exception {
        LocalCache cache = new LocalCache(temp.resolve("cache"));
        String promised = Hashing.sha256("expected".getBytes(StandardCharsets.UTF_8));
        new HostileEntry("corrupt").file("ok.txt", "fine")
                .output(Manifest.Output.file("bad.txt", "rw-r--r--", 8, promised)).blob(promised, "tampered".getBytes(StandardCharsets.UTF_8))
                .plant(cache.root());

        assertThat(cache.lookup("corrupt", false)).as("without verification the lookup trusts it").isPresent();
        String note = refusedThroughTaskCache(cache, "corrupt", false);

        assertThat(note).contains("file 'bad.txt' does not match its sha256");
        assertThat(Files.exists(work.resolve("ok.txt"))).as("validated before anything is installed").isFalse();
        assertThat(cache.lookup("corrupt", false)).as("a damaged entry is removed").isEmpty();
    }

    @Test
    void moreBytesThanTheLimitAreRefusedWhileCopyingWhateverTheManifestDeclares() throws Exception {
        LocalCache cache = new LocalCache(temp.resolve("cache"), new RestoreLimits(1000, 100));
        byte[] big = new byte[5000];
        String sha = Hashing.sha256(big);
        new HostileEntry("lies-about-size").output(Manifest.Output.file("big", "rw-r--r--", 10, sha)).blob(sha, big).plant(cache.root());
        new HostileEntry("many-small").file("a", "x".repeat(400)).file("b", "y".repeat(400)).file("c", "z".repeat(400)).plant(cache.root());

        for (String key : List.of("lies-about-size", "many-small")) {
            assertThat(refusedThroughTaskCache(cache, key, true)).as(key)
                    .contains("expands to more than 1000 bytes, the restore limit (maxBytes)");
        }
        assertThat(Files.exists(work.resolve("a"))).isFalse();
    }

    @Test
    void moreEntriesThanTheLimitAreRefused() throws Exception {
        LocalCache cache = new LocalCache(temp.resolve("cache"), new RestoreLimits(1 << 20, 10));
        HostileEntry many = new HostileEntry("many");
        for (int i = 0; i < 11; i++) {
            many.output(Manifest.Output.dir("d" + i, "rwxr-xr-x"));
        }
        many.plant(cache.root());

        assertThat(refusedThroughTaskCache(cache, "many", true)).contains("more than 10 entries, the restore limit (maxEntries)");
    }

    @Test
    void symlinksStayingInsideTheTreeAndNestedDirectoriesAreRestored() throws Exception {
        LocalCache cache = new LocalCache(temp.resolve("cache"));
        new HostileEntry("good").output(Manifest.Output.dir("out", "rwxr-x---")).file("lib/libx.so.1", "elf")
                .output(Manifest.Output.symlink("lib/libx.so", "libx.so.1")).output(Manifest.Output.symlink("out/lib", "../lib"))
                .output(Manifest.Output.symlink("out/here", ".")).output(Manifest.Output.dir("out/empty", "rwxr-xr-x"))
                .plant(cache.root());

        assertThat(taskCache(cache, true).restore(task(), "good", System.nanoTime(), OutputStream.nullOutputStream(),
                OutputStream.nullOutputStream())).isPresent();

        assertThat(Files.readString(work.resolve("out/lib/libx.so"))).isEqualTo("elf");
        assertThat(Files.readSymbolicLink(work.resolve("out/lib"))).isEqualTo(Path.of("../lib"));
        assertThat(Files.isDirectory(work.resolve("out/empty"))).isTrue();
        assertThat(java.nio.file.attribute.PosixFilePermissions.toString(Files.getPosixFilePermissions(work.resolve("out"))))
                .isEqualTo("rwxr-x---");
        try (var left = Files.list(work)) {
            assertThat(left.map(p -> p.getFileName().toString())).as("no staging left behind").containsExactlyInAnyOrder("README", "out", "lib");
        }
    }

    /** Restores {@code key} as a build would; asserts a miss that left the workspace and the outside as they were. @return the notes */
    private String refusedThroughTaskCache(LocalCache cache, String key, boolean verifyOnRead) throws Exception {
        Map<String, String> workBefore = TreeState.of(work);
        Map<String, String> outsideBefore = TreeState.of(outside);
        int noted = notes.size();

        Optional<TaskCache.Result> hit = taskCache(cache, verifyOnRead).restore(task(), key, System.nanoTime(),
                OutputStream.nullOutputStream(), OutputStream.nullOutputStream());

        assertThat(hit).as(key).isEmpty();
        assertThat(TreeState.of(work)).as(key + ": the workspace is untouched").isEqualTo(workBefore);
        assertThat(TreeState.of(outside)).as(key + ": outside is untouched").isEqualTo(outsideBefore);
        return notes.toString(StandardCharsets.UTF_8).substring(noted);
    }

    private TaskCache taskCache(LocalCache cache, boolean verifyOnRead) {
        return new TaskCache(cache, Optional.empty(), verifyOnRead, Set.of(), new PrintStream(notes, true, StandardCharsets.UTF_8),
                InputHashes.none());
    }

    private TaskCache.Task task() {
        return new TaskCache.Task(work, List.of(), List.of(), List.of(), List.of("make"), false);
    }

    private String note() {
        return notes.toString(StandardCharsets.UTF_8);
    }
}
