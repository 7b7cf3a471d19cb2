package dev.reprise.taskcache;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.FilterInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystems;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.zip.GZIPInputStream;
import java.util.zip.GZIPOutputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Directories and files archived the way GitHub's actions/cache archives them (a POSIX tar of
 * paths relative to the workspace, {@code ../} for those outside it, compressed with zstd, or gzip
 * when zstd is missing), and the cache version it computes, so an entry saved by either restores
 * with the other.
 *
 * <p>An archive is restored as hostile input: before anything is written, every entry must land
 * inside one of the paths the restore asked for (by its text and through no symlink on disk), a
 * symlink must point inside that same path, hard links and devices are refused, and the entries
 * and the bytes they inflate to are counted against the restore limits.
 */
public final class PathsArchive {

    /** How the archive is compressed; {@code id} is what actions/cache puts into the version. */
    public enum Compression {
        ZSTD("zstd-without-long"), GZIP("gzip");

        public final String id;

        Compression(String id) {
            this.id = id;
        }

        /** zstd when the {@code zstd} command works (as actions/cache decides), else gzip. */
        public static Compression detect() {
            try {
                Process probe = new ProcessBuilder("zstd", "--quiet", "--version").redirectErrorStream(true).start();
                boolean printed = probe.getInputStream().readAllBytes().length > 0;
                return probe.waitFor(10, TimeUnit.SECONDS) && probe.exitValue() == 0 && printed ? ZSTD : GZIP;
            } catch (IOException e) {
                return GZIP;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return GZIP;
            }
        }
    }

    /** What a restore wrote. */
    public record Restored(long entries, long bytes) {
    }

    private static final Pattern GLOB = Pattern.compile("[*?\\[{]");

    private PathsArchive() {
    }

    /** actions/cache's version: sha256 of the paths as given, the compression and "1.0", joined with '|'. */
    public static String version(List<String> paths, Compression compression) {
        List<String> parts = new ArrayList<>(paths);
        parts.add(compression.id);
        parts.add("1.0");
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(String.join("|", parts).getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /**
     * Archives what the patterns match (a directory with everything under it, symlinks as
     * symlinks) into {@code out}. @return the number of entries; 0 when nothing matched (nothing written)
     */
    public static long pack(Path workspace, Path home, List<String> patterns, Compression compression, Path out) throws IOException {
        return pack(workspace, home, patterns, compression, out, -1);
    }

    /**
     * {@link #pack}, refusing (with a {@link RefusedEntry}) any file or directory not owned by
     * {@code owner}: what a build runner archives of a build's tree is only ever the build's own
     * (a hard link to anything else is not). {@code owner} -1: any.
     */
    public static long pack(Path workspace, Path home, List<String> patterns, Compression compression, Path out, int owner)
            throws IOException {
        Set<Path> matched = new LinkedHashSet<>();
        for (String pattern : patterns) {
            matched.addAll(matches(workspace, home, pattern));
        }
        if (matched.isEmpty()) {
            return 0;
        }
        Path tar = compression == Compression.ZSTD ? Files.createTempFile(out.toAbsolutePath().getParent(), "pack.", ".tar") : out;
        long entries = 0;
        try {
            try (OutputStream file = new BufferedOutputStream(Files.newOutputStream(tar));
                    OutputStream compressed = compression == Compression.GZIP ? new GZIPOutputStream(file, 1 << 16) : file;
                    TarArchiveOutputStream archive = new TarArchiveOutputStream(compressed, StandardCharsets.UTF_8.name())) {
                archive.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
                archive.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
                Set<Path> written = new java.util.HashSet<>();
                for (Path root : matched) {
                    entries += add(archive, workspace, root, written, owner);
                }
            }
            if (compression == Compression.ZSTD) {
                run("zstd", "-T0", "-q", "-f", tar.toString(), "-o", out.toString());
            }
        } finally {
            if (tar != out) {
                Files.deleteIfExists(tar);
            }
        }
        return entries;
    }

    /**
     * Restores an archive into the workspace. Nothing is written unless every entry is allowed:
     * it lands inside one of {@code patterns}' paths, through no symlink; see the class comment.
     */
    public static Restored unpack(Path archive, Compression compression, Path workspace, Path home, List<String> patterns,
            RestoreLimits limits) throws IOException {
        List<Path> roots = new ArrayList<>();
        for (String pattern : patterns) {
            Path root = base(workspace, home, pattern);
            BasicFileAttributes attrs = TreePaths.attributes(root);
            if (attrs != null && attrs.isSymbolicLink()) {
                throw RefusedEntry.conflict(root + " is a symlink; refusing to restore through it");
            }
            roots.add(root);
        }
        RestoreLimits.Budget budget = limits.budget("archive");
        // First pass: read everything, write nothing.
        try (TarArchiveInputStream tar = open(archive, compression, budget)) {
            for (TarArchiveEntry entry; (entry = tar.getNextEntry()) != null; ) {
                budget.addEntries(1);
                check(workspace, roots, entry);
            }
        }
        // Second pass: the same bytes again, now installed.
        long entries = 0;
        long bytes = 0;
        List<java.util.Map.Entry<Path, Integer>> directories = new ArrayList<>();
        try (TarArchiveInputStream tar = open(archive, compression, limits.budget("archive"))) {
            for (TarArchiveEntry entry; (entry = tar.getNextEntry()) != null; ) {
                Target target = check(workspace, roots, entry);
                TreePaths.checkParents(target.root(), target.names());
                Path path = target.path();
                BasicFileAttributes existing = TreePaths.attributes(path);
                if (entry.isDirectory()) {
                    if (existing == null) {
                        Files.createDirectories(path);
                    } else if (!existing.isDirectory()) {
                        throw RefusedEntry.conflict("'" + TreePaths.printable(entry.getName()) + "' is a directory in the archive but not in the tree");
                    }
                } else {
                    if (existing != null && existing.isDirectory()) {
                        throw RefusedEntry.conflict("'" + TreePaths.printable(entry.getName()) + "' is a directory in the tree; refusing to replace it");
                    }
                    Files.createDirectories(path.getParent());
                    TreePaths.checkParents(target.root(), target.names());
                    Files.deleteIfExists(path); // a symlink there is removed, never written through
                    if (entry.isSymbolicLink()) {
                        Files.createSymbolicLink(path, Path.of(entry.getLinkName()));
                    } else {
                        try (OutputStream out = Files.newOutputStream(path, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                            bytes += tar.transferTo(out);
                        }
                        Files.setLastModifiedTime(path, FileTime.from(entry.getLastModifiedDate().toInstant()));
                    }
                }
                if (entry.isDirectory()) {
                    directories.add(java.util.Map.entry(path, entry.getMode()));
                } else if (!entry.isSymbolicLink()) {
                    Files.setPosixFilePermissions(path, permissions(entry.getMode()));
                }
                entries++;
            }
        }
        // Directories' modes last, deepest first: a read-only directory must not stop what goes into it.
        for (int i = directories.size() - 1; i >= 0; i--) {
            Files.setPosixFilePermissions(directories.get(i).getKey(), permissions(directories.get(i).getValue() | 0700));
        }
        return new Restored(entries, bytes);
    }

    private record Target(Path root, List<String> names, Path path) {
    }

    /** Where an entry would land, or why it may not. */
    private static Target check(Path workspace, List<Path> roots, TarArchiveEntry entry) throws RefusedEntry {
        String name = entry.getName();
        while (name.startsWith("./")) {
            name = name.substring(2);
        }
        if (name.endsWith("/")) {
            name = name.substring(0, name.length() - 1);
        }
        String shown = TreePaths.printable(entry.getName());
        if (name.isEmpty() || name.startsWith("/") || name.indexOf('\0') >= 0 || name.indexOf('\\') >= 0) {
            throw RefusedEntry.unsafe("archive entry '" + shown + "' is absolute or empty");
        }
        if (entry.isLink() || !(entry.isDirectory() || entry.isFile() || entry.isSymbolicLink())) {
            throw RefusedEntry.unsafe("archive entry '" + shown + "' is a hard link or a special file; only files, directories and symlinks are restored");
        }
        Path path = workspace.resolve(name).normalize();
        for (Path root : roots) {
            if (path.startsWith(root)) {
                List<String> names = new ArrayList<>();
                root.relativize(path).forEach(p -> names.add(p.toString()));
                if (names.isEmpty() || names.get(0).isEmpty()) {
                    if (!entry.isDirectory()) {
                        throw RefusedEntry.unsafe("archive entry '" + shown + "' would replace " + root);
                    }
                    return new Target(root.getParent() == null ? root : root.getParent(), List.of(root.getFileName().toString()), root);
                }
                if (entry.isSymbolicLink()) {
                    TreePaths.checkLinkTarget(names, entry.getLinkName());
                }
                return new Target(root, names, path);
            }
        }
        throw RefusedEntry.unsafe("archive entry '" + shown + "' lies outside the paths being restored (" + roots + ")");
    }

    private static TarArchiveInputStream open(Path archive, Compression compression, RestoreLimits.Budget budget) throws IOException {
        InputStream raw;
        if (compression == Compression.ZSTD) {
            Process zstd = new ProcessBuilder("zstd", "-d", "-q", "-c", archive.toString()).redirectError(ProcessBuilder.Redirect.DISCARD).start();
            zstd.getOutputStream().close();
            raw = new FilterInputStream(zstd.getInputStream()) {
                @Override
                public int read() throws IOException {
                    return ended(super.read());
                }

                @Override
                public int read(byte[] buffer, int offset, int length) throws IOException {
                    return ended(super.read(buffer, offset, length));
                }

                /** At the end of zstd's output, whether zstd decompressed everything: a damaged archive is an error, not an empty one. */
                private int ended(int n) throws IOException {
                    if (n < 0) {
                        try {
                            if (!zstd.waitFor(30, TimeUnit.SECONDS) || zstd.exitValue() != 0) {
                                throw RefusedEntry.unsafe("the archive is not a zstd stream zstd can decompress (a damaged or foreign entry)");
                            }
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            throw new java.io.InterruptedIOException("interrupted while decompressing");
                        }
                    }
                    return n;
                }

                @Override
                public void close() throws IOException {
                    super.close();
                    zstd.destroy();
                }
            };
        } else {
            raw = new GZIPInputStream(Files.newInputStream(archive), 1 << 16);
        }
        InputStream counted = new FilterInputStream(new BufferedInputStream(raw, 1 << 16)) {
            @Override
            public int read() throws IOException {
                int b = super.read();
                if (b >= 0) {
                    budget.addBytes(1);
                }
                return b;
            }

            @Override
            public int read(byte[] buffer, int offset, int length) throws IOException {
                int n = super.read(buffer, offset, length);
                if (n > 0) {
                    budget.addBytes(n);
                }
                return n;
            }

            @Override
            public long skip(long n) throws IOException {
                // skipped bytes were inflated all the same: they count
                long skipped = super.skip(n);
                if (skipped > 0) {
                    budget.addBytes(skipped);
                }
                return skipped;
            }
        };
        return new TarArchiveInputStream(counted, StandardCharsets.UTF_8.name());
    }

    /** The files and directories a pattern names: a path (~ is the home directory), or a glob under its fixed leading part. */
    static List<Path> matches(Path workspace, Path home, String pattern) throws IOException {
        if (pattern.startsWith("!")) {
            throw new IllegalArgumentException("exclusions ('" + pattern + "') are not supported: list the paths to cache");
        }
        Path base = base(workspace, home, pattern);
        String expanded = expand(workspace, home, pattern).toString();
        if (!GLOB.matcher(pattern).find()) {
            return TreePaths.attributes(base) == null ? List.of() : List.of(base);
        }
        PathMatcher matcher = FileSystems.getDefault().getPathMatcher("glob:" + expanded);
        List<Path> found = new ArrayList<>();
        if (TreePaths.attributes(base) == null) {
            return found;
        }
        Files.walkFileTree(base, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                if (matcher.matches(dir) && !dir.equals(base)) {
                    found.add(dir);
                    return FileVisitResult.SKIP_SUBTREE;
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                if (matcher.matches(file)) {
                    found.add(file);
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return found;
    }

    /** The fixed part of a pattern, before its first glob segment: where its matches can be, and what a restore may write. */
    static Path base(Path workspace, Path home, String pattern) {
        Path expanded = expand(workspace, home, pattern);
        if (!GLOB.matcher(pattern).find()) {
            return expanded;
        }
        Path base = expanded.getRoot();
        for (Path segment : expanded) {
            if (GLOB.matcher(segment.toString()).find()) {
                break;
            }
            base = base.resolve(segment);
        }
        return base;
    }

    private static Path expand(Path workspace, Path home, String pattern) {
        String trimmed = pattern.strip();
        Path path = trimmed.equals("~") ? home : trimmed.startsWith("~/") ? home.resolve(trimmed.substring(2)) : workspace.resolve(trimmed);
        return path.normalize();
    }

    /** Adds a path and, for a real directory, everything under it (symlinks are entries, never followed). */
    private static long add(TarArchiveOutputStream archive, Path workspace, Path root, Set<Path> written, int owner) throws IOException {
        long[] count = {0};
        Files.walkFileTree(root, new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) throws IOException {
                if (written.add(dir)) {
                    checkOwner(dir, owner);
                    entry(archive, workspace, dir, attrs);
                    count[0]++;
                }
                return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                if ((attrs.isRegularFile() || attrs.isSymbolicLink()) && written.add(file)) {
                    checkOwner(file, owner);
                    entry(archive, workspace, file, attrs);
                    count[0]++;
                }
                return FileVisitResult.CONTINUE;
            }
        });
        return count[0];
    }

    private static void checkOwner(Path path, int owner) throws IOException {
        if (owner >= 0 && (int) Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS) != owner) {
            throw RefusedEntry.unsafe("'" + TreePaths.printable(path.toString()) + "' is not the build's own (owner uid "
                    + Files.getAttribute(path, "unix:uid", LinkOption.NOFOLLOW_LINKS) + "); refusing to archive it");
        }
    }

    private static void entry(TarArchiveOutputStream archive, Path workspace, Path path, BasicFileAttributes attrs) throws IOException {
        String name = workspace.relativize(path).toString().replace('\\', '/');
        if (name.isEmpty()) {
            name = ".";
        }
        TarArchiveEntry entry;
        if (attrs.isSymbolicLink()) {
            entry = new TarArchiveEntry(name, TarArchiveEntry.LF_SYMLINK);
            entry.setLinkName(Files.readSymbolicLink(path).toString());
        } else {
            entry = new TarArchiveEntry(attrs.isDirectory() ? name + "/" : name);
            entry.setMode((attrs.isDirectory() ? 0040000 : 0100000) | mode(path));
            if (attrs.isRegularFile()) {
                entry.setSize(attrs.size());
            }
        }
        entry.setModTime(attrs.lastModifiedTime());
        archive.putArchiveEntry(entry);
        if (attrs.isRegularFile()) {
            try (InputStream in = Files.newInputStream(path, LinkOption.NOFOLLOW_LINKS)) {
                in.transferTo(archive);
            }
        }
        archive.closeArchiveEntry();
    }

    private static int mode(Path path) throws IOException {
        int mode = 0;
        for (PosixFilePermission p : Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS)) {
            mode |= 1 << (8 - p.ordinal());
        }
        return mode;
    }

    /** A tar mode's rwx bits (never setuid, setgid or sticky). */
    static Set<PosixFilePermission> permissions(int mode) {
        Set<PosixFilePermission> set = EnumSet.noneOf(PosixFilePermission.class);
        for (PosixFilePermission p : PosixFilePermission.values()) {
            if ((mode & (1 << (8 - p.ordinal()))) != 0) {
                set.add(p);
            }
        }
        return set;
    }

    private static void run(String... command) throws IOException {
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        try {
            if (!process.waitFor(10, TimeUnit.MINUTES) || process.exitValue() != 0) {
                throw new IOException(String.join(" ", command) + " failed: " + output.strip());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted", e);
        }
    }
}
