package dev.reprise.taskcache;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.FileSystems;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;

/**
 * Files matched by globs under a root, as sorted forward-slash relative paths. Globs are
 * {@code java.nio} globs against the relative path ({@code src/**}, {@code *.c}, {@code pom.xml});
 * excluded paths (the cache directory, {@code .git}) are never matched.
 */
public final class Inputs {

    private Inputs() {
    }

    /** A matched file with the attributes the walk already read (no second stat). */
    public record Found(Path path, long size, long modified) {
    }

    /** @return relative forward-slash path to file, sorted by path */
    public static TreeMap<String, Path> match(Path root, List<String> globs, Set<String> excluded) {
        TreeMap<String, Path> paths = new TreeMap<>();
        find(root, globs, excluded).forEach((rel, found) -> paths.put(rel, found.path()));
        return paths;
    }

    /** Like {@link #match}, keeping each file's size and modification time. */
    public static TreeMap<String, Found> find(Path root, List<String> globs, Set<String> excluded) {
        List<PathMatcher> matchers = new ArrayList<>();
        List<String> prefixes = new ArrayList<>();
        for (String glob : globs) {
            String pattern = glob.startsWith("./") ? glob.substring(2) : glob;
            matchers.add(FileSystems.getDefault().getPathMatcher("glob:" + pattern));
            String head = pattern.endsWith("/**") ? pattern.substring(0, pattern.length() - 2) : null;
            prefixes.add(head != null && head.chars().noneMatch(c -> "*?[{\\".indexOf(c) >= 0) ? head : null);
        }
        TreeMap<String, Found> found = new TreeMap<>();
        if (matchers.isEmpty()) {
            return found;
        }
        try {
            Files.walkFileTree(root, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    return !dir.equals(root) && excluded.contains(relative(root, dir)) ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) {
                    Path rel = root.relativize(file);
                    String relText = rel.toString().replace('\\', '/');
                    for (int i = 0; i < matchers.size(); i++) {
                        // "dir/**" is the common case: a prefix test instead of a regex.
                        String prefix = prefixes.get(i);
                        if (prefix != null ? relText.startsWith(prefix) : matchers.get(i).matches(rel)) {
                            found.put(relText, new Found(file, attrs.size(), attrs.lastModifiedTime().toMillis()));
                            break;
                        }
                    }
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return found;
    }

    /** A path relative to root with forward slashes, the same on every OS. */
    public static String relative(Path root, Path path) {
        return root.relativize(path).toString().replace('\\', '/');
    }
}
