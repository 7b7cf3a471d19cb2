package dev.reprise.taskcache;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.core.type.TypeReference;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.HashMap;
import java.util.Map;

/**
 * Remembers input files' hashes by path, size and modification time (in the cache directory's
 * {@code input-hashes.json}), so a warm lookup stats its inputs instead of reading them. A file
 * modified within the last two seconds is always re-hashed: a write in the same clock tick as the
 * last hash would otherwise go unseen (git's "racy clean" rule).
 */
public final class InputHashes {

    private static final long RACY_MILLIS = 2000;

    @JsonIgnoreProperties(ignoreUnknown = true)
    record Known(long size, long modified, String sha256) {
    }

    private final Path file;
    private final Map<String, Known> known;
    private boolean changed;

    private InputHashes(Path file, Map<String, Known> known) {
        this.file = file;
        this.known = known;
    }

    /** The index kept in {@code cacheRoot}, or an empty one when it is missing or unreadable. */
    public static InputHashes load(Path cacheRoot) {
        Path file = cacheRoot.resolve("input-hashes.json");
        return new InputHashes(file, MemoFile.read(file, new TypeReference<HashMap<String, Known>>() { }));
    }

    /** An index that remembers nothing between calls (tests, one-off keys). */
    public static InputHashes none() {
        return new InputHashes(null, new HashMap<>());
    }

    public String sha256(Path path) throws IOException {
        BasicFileAttributes attrs = Files.readAttributes(path, BasicFileAttributes.class);
        return sha256(path, attrs.size(), attrs.lastModifiedTime().toMillis());
    }

    /** The file's hash, given the size and modification time the caller just read. */
    public String sha256(Path path, long size, long modified) throws IOException {
        String id = path.isAbsolute() ? path.toString() : path.toAbsolutePath().toString();
        Known hit = known.get(id);
        boolean racy = System.currentTimeMillis() - modified < RACY_MILLIS;
        if (hit != null && hit.size() == size && hit.modified() == modified && !racy) {
            return hit.sha256();
        }
        String sha = Hashing.sha256(path);
        if (!racy) {
            known.put(id, new Known(size, modified, sha));
            changed = true;
        }
        return sha;
    }

    /** Writes the index back (atomically) when it learned something. */
    public void save() {
        if (file != null && changed && MemoFile.write(file, known)) {
            changed = false;
        }
    }
}
