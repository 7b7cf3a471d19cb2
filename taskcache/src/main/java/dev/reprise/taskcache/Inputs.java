package dev.reprise.taskcache;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.DirectoryStream;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.PathMatcher;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.ForkJoinWorkerThread;
import java.util.concurrent.RecursiveAction;

/**
 * Files matched by globs under a root, as sorted forward-slash relative paths. Globs are
 * {@code java.nio} globs against the relative path ({@code src/**}, {@code *.c}, {@code pom.xml});
 * excluded paths (the cache directory, {@code .git}) are never matched.
 */
public final class Inputs {

    private Inputs() {
    }

    /**
     * A matched file with the attributes the walk already read (no second stat); for a symbolic
     * link that is not followed, its target as text ({@code linkTarget}, else null).
     */
    public record Found(Path path, long size, long modified, String linkTarget) {

        public Found(Path path, long size, long modified) {
            this(path, size, modified, null);
        }
    }

    /** @return relative forward-slash path to file, sorted by path */
    public static TreeMap<String, Path> match(Path root, List<String> globs, Set<String> excluded) {
        TreeMap<String, Path> paths = new TreeMap<>();
        find(root, globs, excluded).forEach((rel, found) -> paths.put(rel, found.path()));
        return paths;
    }

    /** Like {@link #match}, keeping each file's size and modification time. */
    public static TreeMap<String, Found> find(Path root, List<String> globs, Set<String> excluded) {
        return find(root, globs, excluded, true);
    }

    /**
     * Like {@link #find(Path, List, Set)}; {@code followLinks} false: a symbolic link counts by its
     * target's text, never by what it points at. For trees written by someone else (a runner's
     * builds): a link to a secret, a FIFO or /dev/zero must not be read by the one computing keys.
     */
    public static TreeMap<String, Found> find(Path root, List<String> globs, Set<String> excluded, boolean followLinks) {
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
        // Directories are listed in parallel: with thousands of inputs the lookup is one stat per
        // file, and a cached stat is kernel CPU that a second core halves.
        Map<String, Found> collected = new ConcurrentHashMap<>();
        WALKERS.invoke(new Walk(root, root, "", matchers, prefixes, excluded, collected, followLinks));
        found.putAll(collected);
        return found;
    }

    private static final ForkJoinPool WALKERS = new ForkJoinPool(Math.max(2, Runtime.getRuntime().availableProcessors()),
            pool -> {
                ForkJoinWorkerThread thread = ForkJoinPool.defaultForkJoinWorkerThreadFactory.newThread(pool);
                thread.setDaemon(true);
                thread.setName("reprise-inputs-" + thread.getPoolIndex());
                return thread;
            }, null, false);

    /** Lists one directory: matching files are collected, subdirectories become tasks of their own. */
    private static final class Walk extends RecursiveAction {
        private final Path root;
        private final Path dir;
        /** dir relative to root, forward slashes, with a trailing slash (empty for root itself). */
        private final String relDir;
        private final List<PathMatcher> matchers;
        private final List<String> prefixes;
        private final Set<String> excluded;
        private final Map<String, Found> found;
        private final boolean followLinks;

        Walk(Path root, Path dir, String relDir, List<PathMatcher> matchers, List<String> prefixes, Set<String> excluded,
                Map<String, Found> found, boolean followLinks) {
            this.followLinks = followLinks;
            this.root = root;
            this.dir = dir;
            this.relDir = relDir;
            this.matchers = matchers;
            this.prefixes = prefixes;
            this.excluded = excluded;
            this.found = found;
        }

        @Override
        protected void compute() {
            List<Walk> subdirectories = new ArrayList<>();
            try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
                for (Path entry : entries) {
                    BasicFileAttributes attrs = Files.readAttributes(entry, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                    // The relative path built as text: with thousands of inputs, Path.relativize is a visible share.
                    String relText = relDir + entry.getFileName().toString();
                    if (attrs.isDirectory()) {
                        if (!excluded.contains(relText)) {
                            subdirectories.add(new Walk(root, entry, relText + "/", matchers, prefixes, excluded, found, followLinks));
                        }
                    } else if (attrs.isSymbolicLink() && !followLinks && matches(relText)) {
                        found.put(relText, new Found(entry, 0, 0, Files.readSymbolicLink(entry).toString()));
                    } else if ((attrs.isRegularFile() || attrs.isSymbolicLink()) && matches(relText)) {
                        // A symlinked input counts by the content it points at (a dangling one not at all).
                        BasicFileAttributes file = attrs.isSymbolicLink() && Files.isRegularFile(entry)
                                ? Files.readAttributes(entry, BasicFileAttributes.class) : attrs;
                        if (file.isRegularFile()) {
                            found.put(relText, new Found(entry, file.size(), file.lastModifiedTime().toMillis()));
                        }
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            invokeAll(subdirectories);
        }

        private boolean matches(String relText) {
            Path rel = null;
            for (int i = 0; i < matchers.size(); i++) {
                // "dir/**" is the common case: a prefix test instead of a regex.
                String prefix = prefixes.get(i);
                if (prefix != null) {
                    if (relText.startsWith(prefix)) {
                        return true;
                    }
                    continue;
                }
                rel = rel != null ? rel : root.getFileSystem().getPath(relText);
                if (matchers.get(i).matches(rel)) {
                    return true;
                }
            }
            return false;
        }
    }

    /** A path relative to root with forward slashes, the same on every OS. */
    public static String relative(Path root, Path path) {
        return root.relativize(path).toString().replace('\\', '/');
    }
}
