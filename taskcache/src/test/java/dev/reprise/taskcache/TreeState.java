package dev.reprise.taskcache;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;

/** Everything under a directory, never following a symlink: to assert that a tree was left as it was. */
final class TreeState {

    private TreeState() {
    }

    /** relative path → "dir", "file:&lt;sha256&gt;" or "link:&lt;target&gt;" */
    static Map<String, String> of(Path root) throws IOException {
        Map<String, String> state = new TreeMap<>();
        try (Stream<Path> all = Files.walk(root)) {
            for (Path path : all.toList()) {
                String rel = root.relativize(path).toString();
                if (Files.isSymbolicLink(path)) {
                    state.put(rel, "link:" + Files.readSymbolicLink(path));
                } else if (Files.isDirectory(path, LinkOption.NOFOLLOW_LINKS)) {
                    state.put(rel, "dir");
                } else {
                    state.put(rel, "file:" + Hashing.sha256(path));
                }
            }
        }
        return state;
    }

    /** Whether any file under root (not following symlinks) contains {@code needle}. */
    static boolean anyFileContains(Path root, byte[] needle) throws IOException {
        try (Stream<Path> all = Files.walk(root)) {
            for (Path path : all.filter(p -> Files.isRegularFile(p, LinkOption.NOFOLLOW_LINKS)).toList()) {
                if (indexOf(Files.readAllBytes(path), needle) >= 0) {
                    return true;
                }
            }
        }
        return false;
    }

    private static int indexOf(byte[] haystack, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (haystack[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
