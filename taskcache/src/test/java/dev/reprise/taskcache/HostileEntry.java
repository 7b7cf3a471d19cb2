package dev.reprise.taskcache;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * A cache entry made by hand, as a hostile tenant would: any manifest (its hashes right, so only
 * the safety checks stand in the way), any blobs, any extra archive members. It can be planted
 * straight into a local cache directory or served as a remote archive.
 */
final class HostileEntry {

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String key;
    private final List<Manifest.Output> outputs = new ArrayList<>();
    private final Map<String, byte[]> blobs = new LinkedHashMap<>();
    private final Map<String, byte[]> extraMembers = new LinkedHashMap<>();

    HostileEntry(String key) {
        this.key = key;
    }

    /** A file output whose blob holds {@code content} (its hash right). */
    HostileEntry file(String path, String content) {
        byte[] bytes = content.getBytes(StandardCharsets.UTF_8);
        String sha = Hashing.sha256(bytes);
        outputs.add(Manifest.Output.file(path, "rw-r--r--", bytes.length, sha));
        blobs.put(sha, bytes);
        return this;
    }

    HostileEntry output(Manifest.Output output) {
        outputs.add(output);
        return this;
    }

    /** A blob stored under {@code sha} whatever its content hashes to. */
    HostileEntry blob(String sha, byte[] content) {
        blobs.put(sha, content);
        return this;
    }

    /** An archive member beyond what an entry has (remote only). */
    HostileEntry member(String name, byte[] content) {
        extraMembers.put(name, content);
        return this;
    }

    Map<String, byte[]> members() throws IOException {
        byte[] log = new byte[0];
        byte[] manifest = JSON.writeValueAsBytes(new Manifest(1, key, List.of("make"), 0, 5, "now", outputs, Hashing.sha256(log), 0));
        Map<String, byte[]> members = new LinkedHashMap<>();
        members.put("manifest.json", manifest);
        members.put("manifest.sha256", (Hashing.sha256(manifest) + "\n").getBytes(StandardCharsets.US_ASCII));
        members.put("log.bin", log);
        blobs.forEach((sha, content) -> members.put("files/" + sha, content));
        members.putAll(extraMembers);
        return members;
    }

    /** Writes the entry into a local cache directory as if it had been stored or installed there. */
    void plant(Path cacheRoot) throws IOException {
        Path entry = cacheRoot.resolve("entries").resolve(key);
        Files.createDirectories(entry.resolve("files"));
        for (Map.Entry<String, byte[]> member : members().entrySet()) {
            Files.write(entry.resolve(member.getKey()), member.getValue());
        }
    }

    /** The entry as the remote serves it. */
    byte[] zip() throws IOException {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            for (Map.Entry<String, byte[]> member : members().entrySet()) {
                zip.putNextEntry(new ZipEntry(member.getKey()));
                zip.write(member.getValue());
                zip.closeEntry();
            }
        }
        return bytes.toByteArray();
    }
}
