package dev.reprise.taskcache;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.reprise.events.RepositoryUrl;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Dependency cache keys: a dependency cache (node_modules, ~/.m2, a virtualenv…) is reusable when
 * the lockfiles that pin it are unchanged. The key is the sha256 (hex) of this canonical JSON,
 * fields in this order, no whitespace:
 *
 * <pre>{"v":1,"repository":…,"lockfiles":[{"path":…,"sha256":…}…],"toolchains":{…},"env":{…},"config":…}</pre>
 *
 * <ul>
 *   <li>{@code repository}: the normalized URL ({@link RepositoryUrl}), so every spelling keys alike;</li>
 *   <li>{@code lockfiles}: every lockfile found ({@link #detect}), by forward-slash path relative to
 *       the repository root, sorted by path; each hashed with CRLF line ends read as LF, so a
 *       Windows checkout keys like a Linux one;</li>
 *   <li>{@code toolchains}: tool → version (node 20.11.1, java 17…), sorted by tool;</li>
 *   <li>{@code env}: only the variables in the allow-list (those that change what gets installed,
 *       e.g. {@code NODE_ENV}), sorted by name;</li>
 *   <li>{@code config}: the sha256 of the build configuration (install command and flags), or null.</li>
 * </ul>
 * {@code DependencyKeysTest} pins the form and one key, so keys stay stable across releases.
 */
public final class DependencyKeys {

    /**
     * File names that pin dependencies, by ecosystem. Maven and Gradle builds without a lock file
     * are pinned by their build files (the POMs, build scripts and version catalogue, the wrapper's
     * Gradle version): a change there is a new key, a change of source files is not.
     */
    public static final Set<String> LOCKFILES = Set.of(
            "package-lock.json", "npm-shrinkwrap.json", "yarn.lock", "pnpm-lock.yaml", // npm, yarn, pnpm
            "requirements.txt", "poetry.lock", "Pipfile.lock", // Python
            "go.sum", "Cargo.lock", "Gemfile.lock", // Go, Rust, Ruby
            "gradle.lockfile", "buildscript-gradle.lockfile", // Gradle dependency locking
            "build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts", "libs.versions.toml",
            "gradle-wrapper.properties", // Gradle build files, catalogue and wrapper
            "lockfile.json", "pom.xml"); // Maven (maven-lockfile plugin; the POMs)

    /** Directories never searched: VCS data, installed dependencies and build output. */
    static final Set<String> SKIPPED = Set.of(".git", ".hg", ".svn", "node_modules", ".venv", "venv", "vendor", "target",
            "build", "dist", ".gradle", ".m2");
    static final int MAX_DEPTH = 8;

    private static final ObjectMapper JSON = new ObjectMapper();

    /** What a dependency cache key is made of. */
    public record Inputs(String repository, Map<String, String> lockfileHashes, Map<String, String> toolchains,
            Map<String, String> env, Set<String> envAllowList, String configHash) {
    }

    private DependencyKeys() {
    }

    /**
     * The lockfiles under {@code root} (Gradle's per-configuration ones in
     * {@code gradle/dependency-locks/*.lockfile} included), path → sha256, sorted by path.
     */
    public static Map<String, String> detect(Path root) {
        Map<String, String> found = new TreeMap<>();
        try {
            Files.walkFileTree(root, Set.of(), MAX_DEPTH, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult preVisitDirectory(Path dir, BasicFileAttributes attrs) {
                    return !dir.equals(root) && SKIPPED.contains(dir.getFileName().toString())
                            ? FileVisitResult.SKIP_SUBTREE : FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    String name = file.getFileName().toString();
                    boolean gradleLock = name.endsWith(".lockfile") && file.getParent() != null
                            && file.getParent().endsWith(Path.of("gradle", "dependency-locks"));
                    if (attrs.isRegularFile() && (LOCKFILES.contains(name) || gradleLock)) {
                        String relative = root.relativize(file).toString().replace('\\', '/');
                        found.put(relative, lockfileHash(Files.readAllBytes(file)));
                    }
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            throw new UncheckedIOException("could not read " + root, e);
        }
        return found;
    }

    /** The sha256 of a lockfile's content, CRLF read as LF. */
    public static String lockfileHash(byte[] content) {
        String text = new String(content, StandardCharsets.UTF_8).replace("\r\n", "\n");
        return sha256(text.getBytes(StandardCharsets.UTF_8));
    }

    /** The canonical JSON the key hashes. */
    public static String canonical(Inputs in) {
        ObjectNode root = JSON.createObjectNode();
        root.put("v", 1);
        root.put("repository", RepositoryUrl.parse(in.repository()).normalized());
        ArrayNode lockfiles = root.putArray("lockfiles");
        new TreeMap<>(in.lockfileHashes()).forEach((path, hash) -> lockfiles.addObject().put("path", path).put("sha256", hash));
        ObjectNode toolchains = root.putObject("toolchains");
        new TreeMap<>(in.toolchains()).forEach(toolchains::put);
        ObjectNode env = root.putObject("env");
        new TreeMap<>(in.env()).forEach((name, value) -> {
            if (in.envAllowList().contains(name)) {
                env.put(name, value);
            }
        });
        root.put("config", in.configHash());
        try {
            return JSON.writeValueAsString(root);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The key: sha256 (hex) of {@link #canonical}. */
    public static String key(Inputs in) {
        return sha256(canonical(in).getBytes(StandardCharsets.UTF_8));
    }

    public static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
