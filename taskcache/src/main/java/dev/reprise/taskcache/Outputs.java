package dev.reprise.taskcache;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.channels.Channels;
import java.nio.file.FileSystems;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Finds a task's outputs: the paths its declared globs match after it ran, or, when it declares
 * none, what a before/after snapshot of the working tree shows as new or changed. The walks never
 * follow a symlink (a symlink is an output of its own, described by its target text).
 */
public final class Outputs {

    /** What a snapshot remembers of one path. */
    public record Seen(String type, long size, long modified) {
    }

    private Outputs() {
    }

    /** Every path under root (files, symlinks, directories), except excluded subtrees. */
    public static Map<String, Seen> snapshot(Path root, Set<String> excluded) {
        Map<String, Seen> seen = new HashMap<>();
        walk(root, excluded, (rel, path, attrs) -> seen.put(rel, new Seen(type(attrs), attrs.size(), attrs.lastModifiedTime().toMillis())));
        return seen;
    }

    /** Paths new or changed since {@code before}, as outputs (directories only when new). */
    public static List<Manifest.Output> changed(Path root, Map<String, Seen> before, Set<String> excluded) throws IOException {
        TreeMap<String, Path> changed = new TreeMap<>();
        walk(root, excluded, (rel, path, attrs) -> {
            Seen old = before.get(rel);
            Seen now = new Seen(type(attrs), attrs.size(), attrs.lastModifiedTime().toMillis());
            if (old == null || !attrs.isDirectory() && !old.equals(now)) {
                changed.put(rel, path);
            }
        });
        return describe(root, changed);
    }

    /** Paths the globs match, files and directories and symlinks alike. */
    public static List<Manifest.Output> matching(Path root, List<String> globs, Set<String> excluded) throws IOException {
        List<PathMatcher> matchers = new ArrayList<>();
        for (String glob : globs) {
            matchers.add(FileSystems.getDefault().getPathMatcher("glob:" + (glob.startsWith("./") ? glob.substring(2) : glob)));
        }
        TreeMap<String, Path> matched = new TreeMap<>();
        walk(root, excluded, (rel, path, attrs) -> {
            Path relative = root.relativize(path);
            if (matchers.stream().anyMatch(m -> m.matches(relative))) {
                matched.put(rel, path);
            }
        });
        return describe(root, matched);
    }

    /**
     * Describes each path as it is on disk, a symlink as its own target (never what it points
     * at): the workspace may be an untrusted build's and this process may be able to read
     * anything. A file is read through {@link TreePaths#openRegular}, so neither it nor a
     * directory on its way is followed if it was swapped for a symlink since the walk.
     */
    private static List<Manifest.Output> describe(Path root, TreeMap<String, Path> paths) throws IOException {
        List<Manifest.Output> outputs = new ArrayList<>();
        for (Map.Entry<String, Path> entry : paths.entrySet()) {
            Path path = entry.getValue();
            BasicFileAttributes attrs = TreePaths.attributes(path);
            if (attrs == null) {
                continue; // gone since the walk: not an output
            }
            if (attrs.isSymbolicLink()) {
                outputs.add(Manifest.Output.symlink(entry.getKey(), Files.readSymbolicLink(path).toString()));
            } else if (attrs.isDirectory()) {
                outputs.add(Manifest.Output.dir(entry.getKey(), mode(path)));
            } else if (attrs.isRegularFile()) {
                try (InputStream in = Channels.newInputStream(TreePaths.openRegular(root, entry.getKey()))) {
                    Hashing.Digest digest = Hashing.digest(in);
                    outputs.add(Manifest.Output.file(entry.getKey(), mode(path), digest.size(), digest.sha256()));
                }
            }
        }
        return outputs;
    }

    static String mode(Path path) throws IOException {
        return PosixFilePermissions.toString(Files.getPosixFilePermissions(path, LinkOption.NOFOLLOW_LINKS));
    }

    private interface Visitor {
        void visit(String relative, Path path, BasicFileAttributes attrs);
    }

    private static void walk(Path root, Set<String> excluded, Visitor visitor) {
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    if (dir.equals(root)) {
                        return FileVisitResult.CONTINUE;
                    }
                    String rel = Inputs.relative(root, dir);
                    if (excluded.contains(rel)) {
                        return FileVisitResult.SKIP_SUBTREE;
                    }
                    visitor.visit(rel, dir, attrs);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    visitor.visit(Inputs.relative(root, file), file, attrs);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String type(BasicFileAttributes attrs) {
        return attrs.isSymbolicLink() ? "symlink" : attrs.isDirectory() ? "dir" : "file";
    }
}
