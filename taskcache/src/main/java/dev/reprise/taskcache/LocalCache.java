package dev.reprise.taskcache;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFileAttributeView;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * A cache directory that several processes (and machines, over a shared file system) may use at
 * once. An entry is built under {@code tmp/} and renamed into {@code entries/<key>} in one step, so
 * a reader sees a whole entry or none; of concurrent writers of one key the first rename wins and
 * the others discard theirs; a crash mid-write leaves only a {@code tmp/} directory, which
 * {@link #prune} removes. Every stored file's sha256 is in the manifest (and the manifest's own in
 * {@code manifest.sha256}), so a damaged entry is found and treated as a miss.
 *
 * <p>Entries are not trusted on the way back out (an entry may have come from another tenant's
 * machine, a workspace from an untrusted build): see {@link #restore} and {@link #store}.
 */
public final class LocalCache {

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
    private static final Duration ABANDONED = Duration.ofHours(1);

    private final Path root;
    private final Path entries;
    private final Path tmp;
    private final RestoreLimits limits;

    public LocalCache(Path root) throws IOException {
        this(root, RestoreLimits.DEFAULTS);
    }

    public LocalCache(Path root, RestoreLimits limits) throws IOException {
        this.root = root;
        this.limits = limits;
        this.entries = root.resolve("entries");
        this.tmp = root.resolve("tmp");
        Files.createDirectories(entries);
        Files.createDirectories(tmp);
    }

    public Path root() {
        return root;
    }

    public RestoreLimits limits() {
        return limits;
    }

    /**
     * The entry for {@code key}, or empty. With {@code verify}, every file is re-hashed; a damaged
     * entry is removed and reported as a miss.
     */
    public Optional<Manifest> lookup(String key, boolean verify) {
        Path entry = entries.resolve(key);
        if (!Files.isDirectory(entry)) {
            return Optional.empty();
        }
        Optional<Manifest> manifest = read(entry, verify);
        if (manifest.isEmpty()) {
            remove(entry);
            return Optional.empty();
        }
        try {
            Files.setLastModifiedTime(entry, FileTime.from(Instant.now()));
        } catch (IOException ignored) {
            // last use is a hint for pruning only
        }
        return manifest;
    }

    /** The manifest if the entry is intact (with {@code deep}, its files too). */
    private Optional<Manifest> read(Path entry, boolean deep) {
        try {
            byte[] manifestBytes = Files.readAllBytes(entry.resolve("manifest.json"));
            String expected = Files.readString(entry.resolve("manifest.sha256"), StandardCharsets.US_ASCII).strip();
            if (!Hashing.sha256(manifestBytes).equals(expected)) {
                return Optional.empty();
            }
            Manifest manifest = JSON.readValue(manifestBytes, Manifest.class);
            if (entry.getParent().equals(entries) && !manifest.key().equals(entry.getFileName().toString())) {
                return Optional.empty();
            }
            if (deep) {
                if (!Hashing.sha256(entry.resolve("log.bin")).equals(manifest.logSha256())) {
                    return Optional.empty();
                }
                for (Manifest.Output output : manifest.outputs()) {
                    // The hash names a file in the entry: one that is not a hash could name any file.
                    if (output.type().equals("file") && (!output.sha256().matches("[0-9a-f]{64}")
                            || !Hashing.sha256(entry.resolve("files").resolve(output.sha256())).equals(output.sha256()))) {
                        return Optional.empty();
                    }
                }
            }
            return Optional.of(manifest);
        } catch (IOException | RuntimeException e) {
            return Optional.empty();
        }
    }

    /**
     * Stores a task's outputs (read from {@code workspace}) and log under its key. The workspace
     * may have been written by an untrusted build while this process may read anything (the runner
     * is root): a file is read only through real directories and never through a symlink, and its
     * bytes must hash to what the manifest recorded, so a file swapped for a link to a secret
     * after the outputs were described is not copied. An entry {@link #restore} would refuse (a
     * symlink leaving the tree, too big) is not stored.
     *
     * @return true when this call's entry became the key's entry, false when another writer's did
     * @throws RefusedEntry when an output is unsafe to store; nothing is stored then
     */
    public boolean store(Manifest manifest, Path workspace, byte[] log) throws IOException {
        ManifestRules.check(manifest, limits);
        Path building = tmp.resolve(manifest.key() + "." + UUID.randomUUID());
        Path files = Files.createDirectories(building.resolve("files"));
        try {
            RestoreLimits.Budget budget = limits.budget(manifest.key());
            for (Manifest.Output output : manifest.outputs()) {
                if (output.type().equals("file")) {
                    Path blob = files.resolve(output.sha256());
                    if (!Files.exists(blob, LinkOption.NOFOLLOW_LINKS)) {
                        try (InputStream in = Channels.newInputStream(TreePaths.openRegular(workspace, output.path()));
                                OutputStream out = Files.newOutputStream(blob, StandardOpenOption.CREATE_NEW)) {
                            if (!budget.copy(in, out).equals(output.sha256())) {
                                throw RefusedEntry.conflict("output '" + TreePaths.printable(output.path()) + "' changed while it was being stored");
                            }
                        }
                    }
                }
            }
            Files.write(building.resolve("log.bin"), log);
            byte[] manifestBytes = JSON.writeValueAsBytes(manifest);
            Files.write(building.resolve("manifest.json"), manifestBytes);
            // Written last: an entry without a matching manifest hash is never read.
            Files.writeString(building.resolve("manifest.sha256"), Hashing.sha256(manifestBytes) + "\n", StandardCharsets.US_ASCII);
            return moveIntoPlace(building, entries.resolve(manifest.key()));
        } finally {
            deleteTree(building);
        }
    }

    /**
     * Puts an entry's outputs back into {@code workspace}: bytes, modes, symlinks, empty
     * directories. The entry is treated as hostile and the workspace as possibly planted with
     * symlinks, and the work goes in three steps so that a refusal leaves the tree as it was:
     * <ol>
     * <li>check: the whole manifest ({@link ManifestRules}), and for every output every directory
     * on its way in the workspace (real directories or missing, never a symlink) and what is at
     * the path itself (a directory is not replaced by a file or a symlink, nor the other way);
     * <li>stage: every file copied from the cache into a hidden directory of the workspace,
     * counted against the {@link RestoreLimits} and hashed as it streams; a byte over the limit or
     * a hash that differs from the manifest refuses the entry;
     * <li>install: directories created one level at a time, staged files and symlinks renamed into
     * place (a rename replaces a symlink found there, it never writes through it), directory modes
     * set last.
     * </ol>
     *
     * @throws RefusedEntry when the entry is unsafe or the workspace is in its way; nothing was written then
     */
    public void restore(Manifest manifest, Path workspace) throws IOException {
        List<ManifestRules.Checked> outputs = ManifestRules.check(manifest, limits);
        for (ManifestRules.Checked output : outputs) {
            checkTarget(workspace, output);
        }
        Path entry = entries.resolve(manifest.key());
        Files.createDirectories(workspace);
        // Inside the workspace so that installing is a rename on one file system.
        Path staging = Files.createDirectory(workspace.resolve(".reprise-restore-" + UUID.randomUUID()));
        try {
            List<Path> staged = stage(manifest.key(), outputs, entry, staging);
            install(workspace, outputs, staged);
        } finally {
            deleteTree(staging);
        }
    }

    /** Refuses an output whose way in the workspace goes through a symlink, or that would replace a directory or be one over a non-directory. */
    private static void checkTarget(Path workspace, ManifestRules.Checked output) throws IOException {
        TreePaths.checkParents(workspace, output.names());
        BasicFileAttributes existing = TreePaths.attributes(workspace.resolve(output.output().path()));
        if (existing == null) {
            return;
        }
        boolean wantsDir = output.output().type().equals("dir");
        if (wantsDir != existing.isDirectory()) {
            throw RefusedEntry.conflict("'" + TreePaths.printable(output.output().path()) + "' is "
                    + (existing.isSymbolicLink() ? "a symlink" : existing.isDirectory() ? "a directory" : "a file")
                    + " in the working tree and the entry has a " + output.output().type() + " there");
        }
    }

    /** Copies files and makes symlinks in {@code staging}; @return each output's staged path (null for directories) */
    private List<Path> stage(String key, List<ManifestRules.Checked> outputs, Path entry, Path staging) throws IOException {
        RestoreLimits.Budget budget = limits.budget(key);
        List<Path> staged = new ArrayList<>();
        for (ManifestRules.Checked checked : outputs) {
            Manifest.Output output = checked.output();
            Path part = staging.resolve(Integer.toString(staged.size()));
            switch (output.type()) {
                case "file" -> {
                    try (InputStream in = openBlob(entry, output); OutputStream out = Files.newOutputStream(part, StandardOpenOption.CREATE_NEW)) {
                        if (!budget.copy(in, out).equals(output.sha256())) {
                            throw RefusedEntry.unsafe("file '" + TreePaths.printable(output.path()) + "' does not match its sha256 in the cache");
                        }
                    }
                    Files.setPosixFilePermissions(part, PosixFilePermissions.fromString(output.mode()));
                    staged.add(part);
                }
                case "symlink" -> staged.add(Files.createSymbolicLink(part, Path.of(output.target())));
                default -> staged.add(null);
            }
        }
        return staged;
    }

    /** A blob of the entry, never through a symlink (the cache directory may be shared); one that cannot be read refuses the entry. */
    private static InputStream openBlob(Path entry, Manifest.Output output) throws RefusedEntry {
        try {
            return Files.newInputStream(entry.resolve("files").resolve(output.sha256()), LinkOption.NOFOLLOW_LINKS);
        } catch (IOException e) {
            throw RefusedEntry.unsafe("file '" + TreePaths.printable(output.path()) + "' cannot be read from the cache entry (" + e + ")");
        }
    }

    private static void install(Path workspace, List<ManifestRules.Checked> outputs, List<Path> staged) throws IOException {
        for (int i = 0; i < outputs.size(); i++) {
            ManifestRules.Checked output = outputs.get(i);
            List<String> names = output.names();
            createDirectories(workspace, output.output().type().equals("dir") ? names : names.subList(0, names.size() - 1));
            if (staged.get(i) != null) {
                // Checked again just before the rename: the check above may be a moment old.
                TreePaths.checkParents(workspace, names);
                Path target = workspace.resolve(output.output().path());
                try {
                    Files.move(staged.get(i), target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    // A mount point inside the workspace: a copy, which also replaces a symlink rather than writing through it.
                    Files.move(staged.get(i), target, StandardCopyOption.REPLACE_EXISTING, LinkOption.NOFOLLOW_LINKS);
                }
            }
        }
        // Last and deepest first: a read-only directory must not stop what goes into it.
        for (int i = outputs.size() - 1; i >= 0; i--) {
            Manifest.Output output = outputs.get(i).output();
            if (output.type().equals("dir")) {
                Files.getFileAttributeView(workspace.resolve(output.path()), PosixFileAttributeView.class,
                        LinkOption.NOFOLLOW_LINKS).setPermissions(PosixFilePermissions.fromString(output.mode()));
            }
        }
    }

    /** Creates the missing directories of {@code names} under root one at a time, refusing a symlink or file on the way. */
    private static void createDirectories(Path root, List<String> names) throws IOException {
        Path dir = root;
        for (String name : names) {
            dir = dir.resolve(name);
            BasicFileAttributes attrs = TreePaths.attributes(dir);
            if (attrs == null) {
                Files.createDirectory(dir); // mkdir(2) fails on anything already there, a symlink too
            } else if (!attrs.isDirectory()) {
                throw RefusedEntry.conflict("'" + TreePaths.printable(root.relativize(dir).toString()) + "' in the working tree is "
                        + (attrs.isSymbolicLink() ? "a symlink" : "not a directory") + "; refusing to write through it");
            }
        }
    }

    /** An entry's directory, to pack for the remote cache (read only; it may vanish when pruned). */
    public Path entryDirectory(String key) {
        return entries.resolve(key);
    }

    /** A fresh directory under {@code tmp/} to unpack a remote entry into. */
    public Path newWorkDirectory() throws IOException {
        return Files.createDirectories(tmp.resolve("incoming." + UUID.randomUUID()));
    }

    /**
     * Installs an entry unpacked into {@code unpacked} (from {@link #newWorkDirectory}) if it is
     * intact, atomically as {@link #store} does. @return its manifest, or empty when it was damaged
     *
     * @throws RefusedEntry when its manifest asks for what {@link #restore} would refuse: such an entry never enters the cache
     */
    public Optional<Manifest> install(String key, Path unpacked) throws IOException {
        try {
            Optional<Manifest> manifest = read(unpacked, true).filter(m -> m.key().equals(key));
            if (manifest.isEmpty()) {
                return Optional.empty();
            }
            ManifestRules.check(manifest.get(), limits);
            moveIntoPlace(unpacked, entries.resolve(key)); // false: another process installed it first, as good
            return manifest;
        } finally {
            deleteTree(unpacked);
        }
    }

    /** The recorded terminal output of an entry. */
    public InputStream log(String key) throws IOException {
        return Files.newInputStream(entries.resolve(key).resolve("log.bin"));
    }

    /** Re-hashes every entry; removes and returns the keys of damaged ones. */
    public List<String> verify() throws IOException {
        List<String> corrupt = new ArrayList<>();
        for (Path entry : list(entries)) {
            if (read(entry, true).isEmpty()) {
                corrupt.add(entry.getFileName().toString());
                remove(entry);
            }
        }
        return corrupt;
    }

    /** What {@link #prune} removed. */
    public record Pruned(int entries, long bytes) {
    }

    /**
     * Removes entries older than {@code maxAge} (by last use), then least recently used ones until
     * the cache fits {@code maxBytes}; also abandoned {@code tmp/} work of crashed writers.
     */
    public Pruned prune(long maxBytes, Duration maxAge) throws IOException {
        for (Path abandoned : list(tmp)) {
            if (Files.getLastModifiedTime(abandoned).toInstant().isBefore(Instant.now().minus(ABANDONED))) {
                deleteTree(abandoned);
            }
        }
        List<Path> all = new ArrayList<>(list(entries));
        all.sort(Comparator.comparing(LocalCache::lastUsed));
        long total = 0;
        for (Path entry : all) {
            total += size(entry);
        }
        int removed = 0;
        long freed = 0;
        Instant oldest = Instant.now().minus(maxAge);
        for (Path entry : all) {
            if (total <= maxBytes && !lastUsed(entry).isBefore(oldest)) {
                continue;
            }
            long size = size(entry);
            remove(entry);
            total -= size;
            freed += size;
            removed++;
        }
        return new Pruned(removed, freed);
    }

    /** Removes every entry. @return how many */
    public int clean() throws IOException {
        List<Path> all = list(entries);
        all.forEach(this::remove);
        list(tmp).forEach(LocalCache::deleteTree);
        return all.size();
    }

    /** Entries and bytes on disk. */
    public long[] usage() throws IOException {
        List<Path> all = list(entries);
        long bytes = 0;
        for (Path entry : all) {
            bytes += size(entry);
        }
        return new long[] {all.size(), bytes};
    }

    /** One monitor per stats file in this JVM: a file lock excludes other processes, not other threads. */
    private static final java.util.concurrent.ConcurrentHashMap<Path, Object> STATS_MONITORS = new java.util.concurrent.ConcurrentHashMap<>();

    /**
     * Runs {@code update} on the stats file under an exclusive lock (several processes count at
     * once); threads of one process (a runner's concurrent builds) take turns first, because a
     * second lock on the same file from the same JVM throws OverlappingFileLockException.
     */
    public CacheStats updateStats(java.util.function.UnaryOperator<CacheStats> update) throws IOException {
        Path file = root.resolve("stats.json").toAbsolutePath().normalize();
        synchronized (STATS_MONITORS.computeIfAbsent(file, f -> new Object())) {
            return updateStatsLocked(file, update);
        }
    }

    private static CacheStats updateStatsLocked(Path file, java.util.function.UnaryOperator<CacheStats> update) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ, StandardOpenOption.WRITE);
                FileLock ignored = channel.lock()) {
            java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate((int) channel.size());
            while (buffer.hasRemaining() && channel.read(buffer) > 0) {
                // read it all
            }
            CacheStats current = buffer.position() == 0 ? CacheStats.EMPTY : JSON.readValue(buffer.array(), CacheStats.class);
            CacheStats next = update.apply(current);
            byte[] bytes = JSON.writeValueAsBytes(next);
            channel.truncate(0);
            channel.write(java.nio.ByteBuffer.wrap(bytes), 0);
            return next;
        }
    }

    /**
     * Renames a finished entry into place in one step. @return false when the key already has an
     * entry (rename(2) refuses a non-empty target: the first writer won)
     */
    private static boolean moveIntoPlace(Path built, Path target) throws IOException {
        try {
            Files.move(built, target, StandardCopyOption.ATOMIC_MOVE);
            return true;
        } catch (FileAlreadyExistsException | DirectoryNotEmptyException e) {
            return false;
        } catch (java.nio.file.FileSystemException e) {
            if (Files.isDirectory(target)) {
                return false;
            }
            throw e;
        }
    }

    /** Removes the key's entry (one that was refused when restored). */
    void evict(String key) {
        remove(entries.resolve(key));
    }

    /** Moves an entry out of sight at once, then deletes it. */
    private void remove(Path entry) {
        Path doomed = tmp.resolve("removed." + entry.getFileName() + "." + UUID.randomUUID());
        try {
            Files.move(entry, doomed, StandardCopyOption.ATOMIC_MOVE);
        } catch (NoSuchFileException e) {
            return;
        } catch (IOException e) {
            doomed = entry;
        }
        deleteTree(doomed);
    }

    private static Instant lastUsed(Path entry) {
        try {
            return Files.getLastModifiedTime(entry).toInstant();
        } catch (IOException e) {
            return Instant.EPOCH;
        }
    }

    private static long size(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            return files.filter(Files::isRegularFile).mapToLong(f -> {
                try {
                    return Files.size(f);
                } catch (IOException e) {
                    return 0;
                }
            }).sum();
        } catch (IOException | UncheckedIOException e) {
            return 0;
        }
    }

    private static List<Path> list(Path dir) throws IOException {
        try (Stream<Path> children = Files.list(dir)) {
            return children.toList();
        }
    }

    /** Removes a tree, best effort (what is left is removed by the next prune). */
    public static void deleteTree(Path path) {
        if (!Files.exists(path, LinkOption.NOFOLLOW_LINKS)) {
            return;
        }
        try (Stream<Path> all = Files.walk(path)) {
            all.sorted(Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.deleteIfExists(p);
                } catch (IOException ignored) {
                    // best effort: a leftover is removed by the next prune
                }
            });
        } catch (IOException | UncheckedIOException ignored) {
            // best effort
        }
    }
}
