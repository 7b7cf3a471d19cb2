package dev.reprise.taskcache;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;

/**
 * A JSON map in the cache directory that only speeds things up ({@link InputHashes},
 * {@link ToolVersions}): a missing or unreadable file is an empty map, a failed write is
 * forgotten, and a write replaces the file atomically (a concurrent reader sees the old or the new).
 */
final class MemoFile {

    private static final ObjectMapper JSON = new ObjectMapper();

    private MemoFile() {
    }

    static <V> Map<String, V> read(Path file, TypeReference<HashMap<String, V>> type) {
        if (file == null || !Files.isRegularFile(file)) {
            return new HashMap<>();
        }
        try {
            return JSON.readValue(file.toFile(), type);
        } catch (IOException e) {
            return new HashMap<>();
        }
    }

    /** @return whether the file now holds {@code values} */
    static boolean write(Path file, Map<String, ?> values) {
        Path part = file.resolveSibling(file.getFileName() + "." + UUID.randomUUID());
        try {
            JSON.writeValue(part.toFile(), values);
            Files.move(part, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            return true;
        } catch (IOException e) {
            try {
                Files.deleteIfExists(part);
            } catch (IOException ignored) {
                // nothing more to do: the next run works it out again
            }
            return false;
        }
    }
}
