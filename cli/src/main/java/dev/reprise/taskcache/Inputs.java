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

    /** @return relative forward-slash path to file, sorted by path */
    public static TreeMap<String, Path> match(Path root, List<String> globs, Set<String> excluded) {
        List<PathMatcher> matchers = new ArrayList<>();
        for (String glob : globs) {
            String pattern = glob.startsWith("./") ? glob.substring(2) : glob;
            matchers.add(FileSystems.getDefault().getPathMatcher("glob:" + pattern));
        }
        TreeMap<String, Path> found = new TreeMap<>();
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
                    for (PathMatcher matcher : matchers) {
                        if (matcher.matches(rel)) {
                            found.put(relative(root, file), file);
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
