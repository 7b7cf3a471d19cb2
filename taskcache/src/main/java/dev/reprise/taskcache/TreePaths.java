package dev.reprise.taskcache;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Objects;

/**
 * Paths under a working tree whose contents may have been made by someone hostile: an output
 * path from another tenant's manifest, a workspace an untrusted build wrote. Paths are checked by
 * their text (nothing absolute, no {@code ..}) and, because a symlink makes the text lie, by what
 * is on disk: every directory on the way is looked at without following symlinks.
 */
final class TreePaths {

    private TreePaths() {
    }

    /** The names of a relative output path; refuses any path whose text could leave the tree. */
    static List<String> segments(String path) throws RefusedEntry {
        if (path == null || path.isEmpty()) {
            throw RefusedEntry.unsafe("an output has an empty path");
        }
        if (path.indexOf('\0') >= 0 || path.indexOf('\\') >= 0) {
            throw RefusedEntry.unsafe("output path '" + printable(path) + "' contains a NUL or backslash");
        }
        if (path.startsWith("/")) {
            throw RefusedEntry.unsafe("output path '" + printable(path) + "' is absolute");
        }
        List<String> names = List.of(path.split("/", -1));
        for (String name : names) {
            if (name.isEmpty() || name.equals(".") || name.equals("..")) {
                throw RefusedEntry.unsafe("output path '" + printable(path) + "' has an empty, '.' or '..' segment");
            }
        }
        return names;
    }

    /**
     * Refuses a symlink target that could resolve outside the tree: absolute, more {@code ..}
     * than the link is deep, or a {@code ..} after a name (the name may itself be a symlink, and
     * {@code name/..} then goes wherever it points, not back to where the text says).
     */
    static void checkLinkTarget(List<String> link, String target) throws RefusedEntry {
        String where = "symlink '" + printable(String.join("/", link)) + "' -> '" + printable(target) + "'";
        if (target == null || target.isEmpty() || target.indexOf('\0') >= 0 || target.indexOf('\\') >= 0) {
            throw RefusedEntry.unsafe(where + " has an empty target or one with a NUL or backslash");
        }
        if (target.startsWith("/")) {
            throw RefusedEntry.unsafe(where + " points to an absolute path, outside the working tree");
        }
        int up = 0;
        boolean descended = false;
        for (String name : target.split("/", -1)) {
            if (name.isEmpty() || name.equals(".")) {
                continue;
            }
            if (!name.equals("..")) {
                descended = true;
            } else if (descended) {
                throw RefusedEntry.unsafe(where + " has '..' after a name");
            } else if (++up > link.size() - 1) {
                throw RefusedEntry.unsafe(where + " points outside the working tree");
            }
        }
    }

    /** The path's own attributes, a symlink as a symlink; null when nothing is there. */
    static BasicFileAttributes attributes(Path path) throws IOException {
        try {
            return Files.readAttributes(path, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /**
     * Refuses when a directory on the way to {@code names} under {@code root} is a symlink or
     * not a directory at all; a missing one is fine (restore creates it as a real directory).
     */
    static void checkParents(Path root, List<String> names) throws IOException {
        Path dir = root;
        for (int i = 0; i < names.size() - 1; i++) {
            dir = dir.resolve(names.get(i));
            BasicFileAttributes attrs = attributes(dir);
            if (attrs == null) {
                return;
            }
            if (!attrs.isDirectory()) {
                throw RefusedEntry.conflict("'" + printable(String.join("/", names.subList(0, i + 1))) + "' in the working tree is "
                        + (attrs.isSymbolicLink() ? "a symlink" : "not a directory") + "; refusing to write through it");
            }
        }
    }

    /**
     * Opens a regular file under {@code root} for reading without following a symlink, neither
     * the file (O_NOFOLLOW) nor a directory on the way. What was checked before opening is checked
     * again after: a file or directory swapped for a symlink in between (by a build process still
     * running) is refused instead of read. Java has no openat(2) here, so a swap and swap back
     * inside that window remains possible; the caller compares the bytes with the hash it
     * recorded earlier, which such a swap would also have to match.
     */
    static FileChannel openRegular(Path root, String relative) throws IOException {
        List<String> names = segments(relative);
        Path file = root.resolve(relative);
        checkParents(root, names);
        BasicFileAttributes before = attributes(file);
        if (before == null || !before.isRegularFile()) {
            throw RefusedEntry.conflict("output '" + printable(relative) + "' is no longer a regular file");
        }
        FileChannel channel;
        try {
            channel = FileChannel.open(file, StandardOpenOption.READ, LinkOption.NOFOLLOW_LINKS);
        } catch (FileSystemException e) {
            // ELOOP: it became a symlink after the look above.
            throw RefusedEntry.conflict("output '" + printable(relative) + "' cannot be opened as a regular file (" + e.getReason() + ")");
        }
        try {
            checkParents(root, names);
            BasicFileAttributes after = attributes(file);
            if (after == null || !after.isRegularFile() || !Objects.equals(before.fileKey(), after.fileKey())) {
                throw RefusedEntry.conflict("output '" + printable(relative) + "' was replaced while it was being read");
            }
            return channel;
        } catch (IOException | RuntimeException e) {
            channel.close();
            throw e;
        }
    }

    /** Text from an entry, safe to print on a terminal: control characters (escape sequences) replaced, length capped. */
    static String printable(String text) {
        if (text == null) {
            return "null";
        }
        StringBuilder out = new StringBuilder();
        text.codePoints().limit(200).forEach(c -> out.appendCodePoint(Character.isISOControl(c) ? '?' : c));
        return text.length() > 200 ? out + "…" : out.toString();
    }
}
