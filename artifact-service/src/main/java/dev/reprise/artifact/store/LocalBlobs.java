package dev.reprise.artifact.store;

import dev.reprise.artifact.config.ArtifactConfig;
import io.quarkus.runtime.StartupEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * The service's local disk: a spool where uploads land while they are hashed, and a cache of
 * blobs verified against their digest. Blobs are immutable, so a cached copy is never stale; least
 * recently served copies go first when the cache is over its size. The directories are the
 * service user's alone (mode 700), and a cached copy is still never trusted as it is: it is
 * checked against its size and digest every time it is served ({@link #readVerified}, or as it is
 * sent), and dropped when it does not match. Every method does file I/O: call it off the event loop.
 */
@ApplicationScoped
public class LocalBlobs {

    private static final Logger LOG = Logger.getLogger(LocalBlobs.class);

    private final Path spool;
    private final Path cache;
    private final long maxBytes;
    private final AtomicLong cachedBytes = new AtomicLong();

    public LocalBlobs(ArtifactConfig config) {
        this.spool = config.dataDir().resolve("spool");
        this.cache = config.dataDir().resolve("blobs");
        this.maxBytes = config.localCacheBytes();
    }

    void onStart(@Observes StartupEvent event) throws IOException {
        Path dataDir = spool.getParent();
        if (dataDir.getParent() != null) {
            Files.createDirectories(dataDir.getParent());
        }
        ownerOnly(dataDir);
        ownerOnly(spool);
        ownerOnly(cache);
        // Spool files of a previous process are uploads that never finished: nothing refers to them.
        try (Stream<Path> leftovers = Files.list(spool)) {
            leftovers.forEach(LocalBlobs::deleteQuietly);
        }
        try (Stream<Path> files = Files.walk(cache)) {
            cachedBytes.set(files.filter(Files::isRegularFile).mapToLong(LocalBlobs::sizeOf).sum());
        }
        LOG.infof("Local blob cache %s holds %d bytes (limit %d)", cache, cachedBytes.get(), maxBytes);
    }

    /** A new, not yet existing spool path for one upload or download. */
    public Path newSpoolFile() {
        return spool.resolve(UUID.randomUUID().toString());
    }

    /**
     * The verified local copy of a blob, if there is one, marked recently used (at most once a
     * minute: one stat per hit, cheap enough for the event loop).
     */
    public Optional<Path> cached(String digest) {
        Path path = cachePath(digest);
        try {
            long now = System.currentTimeMillis();
            if (Files.getLastModifiedTime(path).toMillis() < now - 60_000) {
                Files.setLastModifiedTime(path, FileTime.fromMillis(now));
            }
            return Optional.of(path);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            LOG.debugf("Cannot touch %s: %s", path, e);
            return Files.exists(path) ? Optional.of(path) : Optional.empty();
        }
    }

    /** A small file read whole and checked against its size and digest (the bytes, or the mismatch). */
    public static Verified readChecked(Path file, String digest, long size) throws IOException {
        if (size > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("too large to read whole: " + size);
        }
        byte[] bytes;
        try (InputStream in = Files.newInputStream(file)) {
            // Never more than one byte past the size: a copy grown huge must not fill the heap.
            bytes = in.readNBytes((int) size + 1);
        }
        String bad = bytes.length != size ? "size"
                : HexFormat.of().formatHex(newSha256().digest(bytes)).equals(digest) ? null : "digest";
        return bad == null ? new Verified(bytes, null) : new Verified(null, bad);
    }

    /** A copy read and checked: its {@code bytes}, or the {@code mismatch} found ({@code size}, {@code digest}). */
    public record Verified(byte[] bytes, String mismatch) {
    }

    /**
     * Moves a spool file whose content hashes to {@code digest} into the cache.
     *
     * @return its cached path, or empty when the blob is too large to cache (over a quarter of the
     *         cache): the spool file is then left to the caller
     */
    public Optional<Path> admit(Path verified, String digest, long size) {
        if (size > maxBytes / 4) {
            return Optional.empty();
        }
        Path target = cachePath(digest);
        try {
            Files.createDirectories(target.getParent());
            try {
                Files.move(verified, target, StandardCopyOption.ATOMIC_MOVE);
                if (cachedBytes.addAndGet(size) > maxBytes) {
                    trim(target);
                }
            } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
                deleteQuietly(verified);
            }
            return Optional.of(target);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Drops the cached copy of a blob (collected or quarantined). */
    public void forget(String digest) {
        Path path = cachePath(digest);
        long size = sizeOf(path);
        if (deleteQuietly(path)) {
            cachedBytes.addAndGet(-size);
        }
    }

    public long cachedBytes() {
        return cachedBytes.get();
    }

    private Path cachePath(String digest) {
        return cache.resolve(digest.substring(0, 2)).resolve(digest);
    }

    /** Removes least recently used copies (never {@code keep}) until the cache is at 90 % of its size. */
    private synchronized void trim(Path keep) {
        if (cachedBytes.get() <= maxBytes) {
            return;
        }
        List<Path> files = new ArrayList<>();
        try (Stream<Path> all = Files.walk(cache)) {
            all.filter(Files::isRegularFile).forEach(files::add);
        } catch (IOException e) {
            LOG.warnf("Cannot list the blob cache: %s", e);
            return;
        }
        // Recount from the disk: copies removed behind our back must not make us evict live ones.
        cachedBytes.set(files.stream().mapToLong(LocalBlobs::sizeOf).sum());
        files.sort(Comparator.comparingLong(LocalBlobs::modified));
        long target = maxBytes * 9 / 10;
        for (Path file : files) {
            if (cachedBytes.get() <= target) {
                break;
            }
            if (file.equals(keep)) {
                continue;
            }
            long size = sizeOf(file);
            if (deleteQuietly(file)) {
                cachedBytes.addAndGet(-size);
            }
        }
    }

    /**
     * Makes {@code dir} (creating it if needed) a directory only this process's user can enter:
     * anyone else who could write into it could replace a cached blob. A directory of another user
     * is refused (it may have been created in a shared /tmp by someone else first).
     */
    public static void ownerOnly(Path dir) throws IOException {
        try {
            Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
        } catch (FileAlreadyExistsException e) {
            // checked below
        } catch (UnsupportedOperationException e) {
            Files.createDirectories(dir); // not a POSIX file system: no modes to set
            return;
        }
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException(dir + " is not a directory: set reprise.artifact.data-dir (REPRISE_ARTIFACT_DATA_DIR)"
                    + " to a directory of this service's own");
        }
        int me = ownUid();
        int owner = uidOf(dir);
        if (me >= 0 && owner >= 0 && owner != me) {
            throw new IllegalStateException(dir + " belongs to another user (uid " + owner + ", this service runs as uid " + me
                    + "), who could replace the blobs it serves: remove it, or set reprise.artifact.data-dir"
                    + " (REPRISE_ARTIFACT_DATA_DIR) to a directory of this service's own");
        }
        Files.setPosixFilePermissions(dir, OWNER_ONLY);
    }

    private static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");

    /** The uid this process runs as (Linux: the owner of /proc/self), or -1 where it cannot be told. */
    private static int ownUid() {
        return uidOf(Path.of("/proc/self"));
    }

    private static int uidOf(Path path) {
        try {
            return (Integer) Files.getAttribute(path, "unix:uid");
        } catch (IOException | UnsupportedOperationException | IllegalArgumentException | ClassCastException e) {
            return -1;
        }
    }

    /** The lowercase hex sha256 of a file's content. */
    public static String sha256(Path file) {
        MessageDigest digest = newSha256();
        byte[] buffer = new byte[1 << 16];
        try (InputStream in = Files.newInputStream(file)) {
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return HexFormat.of().formatHex(digest.digest());
    }

    public static MessageDigest newSha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    public static boolean deleteQuietly(Path path) {
        try {
            return Files.deleteIfExists(path);
        } catch (IOException e) {
            LOG.debugf("Cannot delete %s: %s", path, e);
            return false;
        }
    }

    private static long sizeOf(Path path) {
        try {
            return Files.size(path);
        } catch (IOException e) {
            return 0;
        }
    }

    private static long modified(Path path) {
        try {
            return Files.getLastModifiedTime(path).toMillis();
        } catch (IOException e) {
            return 0;
        }
    }
}
