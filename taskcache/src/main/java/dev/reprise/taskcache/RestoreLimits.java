package dev.reprise.taskcache;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * How much one cache entry may put on disk when it is unpacked or restored. An entry may come
 * from another tenant's machine, so its declared sizes prove nothing: the bytes are counted as
 * they are written, and the first byte or entry over a limit refuses the whole entry.
 *
 * @param maxBytes   bytes written for one entry (file contents; when unpacking a download, its manifest and log too)
 * @param maxEntries outputs (files, directories, symlinks) of one entry
 */
public record RestoreLimits(long maxBytes, long maxEntries) {

    /** Far above any real build step's outputs, far below what fills a runner's disk. */
    public static final RestoreLimits DEFAULTS = new RestoreLimits(10L << 30, 1_000_000);

    public RestoreLimits {
        if (maxBytes <= 0 || maxEntries <= 0) {
            throw new IllegalArgumentException("restore limits must be positive: " + maxBytes + " bytes, " + maxEntries + " entries");
        }
    }

    /** A fresh count for one entry. */
    Budget budget(String key) {
        return new Budget(this, key);
    }

    /** What one entry has written so far; refuses it at the first byte or entry over a limit. */
    static final class Budget {
        private final RestoreLimits limits;
        private final String key;
        private long bytes;
        private long entries;

        private Budget(RestoreLimits limits, String key) {
            this.limits = limits;
            this.key = key;
        }

        void addEntries(long count) throws RefusedEntry {
            entries += count;
            if (entries > limits.maxEntries) {
                throw RefusedEntry.unsafe("entry " + TreePaths.printable(key) + " has more than " + limits.maxEntries
                        + " entries, the restore limit (maxEntries)");
            }
        }

        void addBytes(long count) throws RefusedEntry {
            bytes += count;
            if (bytes > limits.maxBytes || bytes < 0) {
                throw RefusedEntry.unsafe("entry " + TreePaths.printable(key) + " expands to more than " + limits.maxBytes
                        + " bytes, the restore limit (maxBytes)");
            }
        }

        /**
         * Copies {@code in} to {@code out}, counting each chunk before it is written (a compressed
         * stream's real size is only known by reading it). @return the sha256 of what was copied
         */
        String copy(InputStream in, OutputStream out) throws IOException {
            MessageDigest digest = Hashing.sha256();
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                addBytes(n);
                digest.update(buffer, 0, n);
                out.write(buffer, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        }
    }
}
