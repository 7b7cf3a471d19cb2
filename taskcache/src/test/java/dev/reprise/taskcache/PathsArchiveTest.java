package dev.reprise.taskcache;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reprise.taskcache.PathsArchive.Compression;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PathsArchiveTest {

    @TempDir
    Path temp;
    Path source;
    Path target;
    Path home;

    @BeforeEach
    void trees() throws IOException {
        source = Files.createDirectories(temp.resolve("source"));
        target = Files.createDirectories(temp.resolve("target"));
        home = Files.createDirectories(temp.resolve("home"));
    }

    @Test
    void theVersionIsTheOneActionsCacheComputes() {
        // @actions/cache 6.3.0 for paths ['data'] with zstd (observed on the wire), and its gzip form
        assertThat(PathsArchive.version(List.of("data"), Compression.ZSTD)).isEqualTo("3ad75f27293d65a135214b8c82b296080f911dc107e52f1e7ec871a2eda46e69");
        assertThat(PathsArchive.version(List.of("data"), Compression.GZIP)).isEqualTo(Hashing.sha256("data|gzip|1.0".getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void aTreeComesBackWithItsModesSymlinksAndEmptyDirectoriesWithEitherCompression() throws Exception {
        for (Compression compression : Compression.values()) {
            if (compression == Compression.ZSTD && Compression.detect() != Compression.ZSTD) {
                continue;
            }
            Path from = Files.createDirectories(temp.resolve("from-" + compression));
            Path to = Files.createDirectories(temp.resolve("to-" + compression));
            Files.createDirectories(from.resolve("data/nested/empty"));
            Files.writeString(from.resolve("data/nested/run.sh"), "#!/bin/sh\necho hi\n");
            Files.setPosixFilePermissions(from.resolve("data/nested/run.sh"), PosixFilePermissions.fromString("rwxr-x---"));
            Files.write(from.resolve("data/big.bin"), new byte[3 << 20]);
            Files.createSymbolicLink(from.resolve("data/link"), Path.of("nested/run.sh"));
            Path archive = temp.resolve("a-" + compression);

            assertThat(PathsArchive.pack(from, home, List.of("data"), compression, archive)).isEqualTo(6);
            PathsArchive.Restored restored = PathsArchive.unpack(archive, compression, to, home, List.of("data"), RestoreLimits.DEFAULTS);

            assertThat(restored.entries()).isEqualTo(6);
            assertThat(Files.readString(to.resolve("data/nested/run.sh"))).isEqualTo("#!/bin/sh\necho hi\n");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(to.resolve("data/nested/run.sh")))).isEqualTo("rwxr-x---");
            assertThat(Files.readSymbolicLink(to.resolve("data/link"))).isEqualTo(Path.of("nested/run.sh"));
            assertThat(Files.isDirectory(to.resolve("data/nested/empty"))).isTrue();
            assertThat(Files.mismatch(from.resolve("data/big.bin"), to.resolve("data/big.bin"))).isEqualTo(-1);
            assertThat(Files.getLastModifiedTime(to.resolve("data/big.bin")).toMillis() / 1000)
                    .isEqualTo(Files.getLastModifiedTime(from.resolve("data/big.bin")).toMillis() / 1000);
        }
    }

    @Test
    void pathsOutsideTheWorkspaceAndGlobsRestoreWhereTheyCameFrom() throws Exception {
        Files.createDirectories(home.resolve(".m2/repository/org/x"));
        Files.writeString(home.resolve(".m2/repository/org/x/x.jar"), "jar");
        Files.createDirectories(source.resolve("a/target"));
        Files.createDirectories(source.resolve("b/target"));
        Files.writeString(source.resolve("a/target/A.class"), "A");
        Files.writeString(source.resolve("b/target/B.class"), "B");
        Files.writeString(source.resolve("b/other.txt"), "not cached");
        List<String> paths = List.of("~/.m2/repository", "*/target");
        Path archive = temp.resolve("a.tgz");
        PathsArchive.pack(source, home, paths, Compression.GZIP, archive);

        Files.walk(home.resolve(".m2")).sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        PathsArchive.unpack(archive, Compression.GZIP, target, home, paths, RestoreLimits.DEFAULTS);
        // the workspace differs; entries name ../home/.m2/..., relative to the workspace as actions/cache writes them
        assertThat(Files.readString(home.resolve(".m2/repository/org/x/x.jar"))).isEqualTo("jar");
        assertThat(Files.readString(target.resolve("a/target/A.class"))).isEqualTo("A");
        assertThat(Files.readString(target.resolve("b/target/B.class"))).isEqualTo("B");
        assertThat(target.resolve("b/other.txt")).doesNotExist();
    }

    @Test
    void hostileArchivesAreRefusedBeforeAnythingIsWritten() throws Exception {
        Path outside = Files.createDirectories(temp.resolve("outside"));
        assertRefused(List.of(file("data/ok.txt", 3), file("/etc/evil", 3)), "absolute");
        assertRefused(List.of(file("data/ok.txt", 3), file("data/../../outside/evil", 3)), "outside the paths");
        assertRefused(List.of(file("data/ok.txt", 3), file("other/evil", 3)), "outside the paths");
        assertRefused(List.of(symlink("data/link", outside.toString())), "absolute path");
        assertRefused(List.of(symlink("data/link", "../../outside")), "outside the working tree");
        assertRefused(List.of(symlink("data/up", ".."), file("data/up/escaped", 3)), "symlink");
        TarArchiveEntry hard = new TarArchiveEntry("data/hard", TarArchiveEntry.LF_LINK);
        hard.setLinkName("data/ok.txt");
        assertRefused(List.of(file("data/ok.txt", 3), hard), "hard link");
        try (Stream<Path> left = Files.list(outside)) {
            assertThat(left).isEmpty();
        }
    }

    @Test
    void aSymlinkPlantedInTheTreeIsNeverWrittenThrough() throws Exception {
        Path outside = Files.createDirectories(temp.resolve("outside"));
        Files.createDirectories(target.resolve("data"));
        Files.createSymbolicLink(target.resolve("data/dir"), outside);
        Path archive = archive(List.of(file("data/dir/evil", 3)));
        assertThatThrownBy(() -> PathsArchive.unpack(archive, Compression.GZIP, target, home, List.of("data"), RestoreLimits.DEFAULTS))
                .isInstanceOf(RefusedEntry.class).hasMessageContaining("symlink");
        assertThat(outside.resolve("evil")).doesNotExist();

        // the restored path itself a symlink: refused too
        Files.delete(target.resolve("data/dir"));
        Files.delete(target.resolve("data"));
        Files.createSymbolicLink(target.resolve("data"), outside);
        assertThatThrownBy(() -> PathsArchive.unpack(archive(List.of(file("data/x", 3))), Compression.GZIP, target, home, List.of("data"),
                RestoreLimits.DEFAULTS)).isInstanceOf(RefusedEntry.class).hasMessageContaining("symlink");
        assertThat(outside.resolve("x")).doesNotExist();
    }

    @Test
    void aBombIsRefusedByWhatItInflatesToAndAFloodByItsEntries() throws Exception {
        Path bomb = archive(List.of(file("data/zeros", 8 << 20)));
        assertThat(Files.size(bomb)).isLessThan(100_000);
        assertThatThrownBy(() -> PathsArchive.unpack(bomb, Compression.GZIP, target, home, List.of("data"), new RestoreLimits(1 << 20, 100)))
                .isInstanceOf(RefusedEntry.class).hasMessageContaining("expands to more than 1048576 bytes");
        Path flood = archive(List.of(file("data/a", 1), file("data/b", 1), file("data/c", 1), file("data/d", 1)));
        assertThatThrownBy(() -> PathsArchive.unpack(flood, Compression.GZIP, target, home, List.of("data"), new RestoreLimits(1 << 20, 3)))
                .isInstanceOf(RefusedEntry.class).hasMessageContaining("more than 3 entries");
        assertThat(target.resolve("data")).doesNotExist();
    }

    private void assertRefused(List<TarArchiveEntry> entries, String why) throws Exception {
        Path archive = archive(entries);
        assertThatThrownBy(() -> PathsArchive.unpack(archive, Compression.GZIP, target, home, List.of("data"), RestoreLimits.DEFAULTS))
                .isInstanceOf(RefusedEntry.class).hasMessageContaining(why);
        assertThat(target.resolve("data")).as("nothing written for: " + why).doesNotExist();
    }

    private static TarArchiveEntry file(String name, int size) {
        TarArchiveEntry entry = new TarArchiveEntry(name, true);
        entry.setSize(size);
        return entry;
    }

    private static TarArchiveEntry symlink(String name, String target) {
        TarArchiveEntry entry = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK, true);
        entry.setLinkName(target);
        return entry;
    }

    /** A gzipped tar of the entries as given (names kept verbatim), files full of zeros. */
    private Path archive(List<TarArchiveEntry> entries) throws IOException {
        Path archive = Files.createTempFile(temp, "hostile.", ".tgz");
        try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(archive)); TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            for (TarArchiveEntry entry : entries) {
                tar.putArchiveEntry(entry);
                if (entry.isFile()) {
                    byte[] zeros = new byte[(int) Math.min(entry.getSize(), 1 << 20)];
                    for (long left = entry.getSize(); left > 0; left -= zeros.length) {
                        tar.write(zeros, 0, (int) Math.min(left, zeros.length));
                    }
                }
                tar.closeArchiveEntry();
            }
        }
        return archive;
    }
}
