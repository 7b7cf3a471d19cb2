package dev.reprise.runner.service;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reprise.events.StreamTickets;
import dev.reprise.runner.config.RunnerConfig;
import dev.reprise.taskcache.DependencyPlan;
import dev.reprise.taskcache.PathsArchive;
import dev.reprise.taskcache.RefusedEntry;
import dev.reprise.taskcache.RemoteCache;
import dev.reprise.taskcache.RestoreLimits;
import dev.reprise.taskcache.Toolchains;
import io.micrometer.core.instrument.MeterRegistry;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.jboss.logging.Logger;

/**
 * A build's dependency cache (seed 004): the directories under the build's HOME its tools download
 * into (Maven's {@code ~/.m2/repository}, npm's cache, Gradle's, pip's, Go's and Cargo's), keyed by
 * the checkout's lockfiles ({@link DependencyPlan}) and kept on artifact-service's {@code deps}
 * door in the build's tenant. Before the build step the exact key is restored, else the newest
 * entry of the same repository and toolchain (a partial hit: the tool fetches only what changed);
 * after a successful build that did not restore its exact key, the directories are saved with
 * their provenance.
 *
 * <p>Builds are hostile, and so is what they leave behind and what their tenant stored: archives
 * are restored by {@link PathsArchive} (nothing outside the dependency directories, no links out,
 * limits on entries and bytes), never through a symlink anywhere between the workspace and a
 * dependency directory, and handed to the build's uid; a save reads only real directories and
 * files the build's uid owns. Every failure is a miss, never a failed build.
 */
public final class DependencyCache {

    private static final Logger LOG = Logger.getLogger(DependencyCache.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    /** How long a tool's version is trusted before it is asked again (an upgrade on the node shows within this). */
    private static final Duration VERSION_TTL = Duration.ofMinutes(5);
    public static final List<String> RESULTS = List.of("hit", "partial", "miss", "bypassed", "error", "saved");

    private final RunnerConfig.DependencyCache config;
    private final StreamTickets tickets;
    private final Path scratch;
    private final PathsArchive.Compression compression;
    private final String version;
    private final MeterRegistry metrics;
    private final Map<String, Versioned> versions = new ConcurrentHashMap<>();

    private record Versioned(Optional<String> version, long until) {
    }


    /**
     * What a restore did. {@code result}: hit, partial, miss, bypassed or error; {@code digest} and
     * {@code recordedMs} (the saving build's step time) on a hit or partial.
     */
    public record Restore(String result, String restoredKey, long bytes, long millis, String builtFrom, String digest,
            Long recordedMs, String detail) {

        boolean exact() {
            return "hit".equals(result);
        }
    }

    /** What a save did: {@code saved}, or why not ({@code exists}, {@code empty}, {@code too-large}, {@code error}). */
    public record Save(String result, long bytes, long millis, String detail) {
    }

    /** Where a saved entry came from, sent as artifact-service's provenance headers. */
    public record Provenance(String tenant, String repository, String commit, String commitMessage, String branch, String buildId,
            long durationMs, String restoredDigest) {
    }

    public DependencyCache(RunnerConfig.DependencyCache config, MeterRegistry metrics) throws IOException {
        this.config = config;
        this.tickets = new StreamTickets(config.secret().orElseThrow(() -> new IllegalArgumentException(
                "reprise.runner.dependency-cache.secret (REPRISE_STREAM_SECRET) is not set")));
        this.scratch = Path.of(config.dir()).toAbsolutePath().normalize();
        Files.createDirectories(scratch);
        Files.setPosixFilePermissions(scratch, PosixFilePermissions.fromString("rwx------"));
        this.compression = PathsArchive.Compression.detect();
        this.version = "deps-v1-" + compression.id;
        this.metrics = metrics;
        RESULTS.forEach(result -> metrics.counter("reprise.runner.dependency.cache", "result", result));
        metrics.counter("reprise.runner.dependency.cache.time.saved");
    }

    /** The directory archives pass through (to hide from builds). */
    public Path scratch() {
        return scratch;
    }

    /**
     * The checkout's dependency plan; empty when it pins nothing this cache knows. Reads the
     * checkout's lockfiles (not following symlinks) and asks the runner's tools their versions.
     */
    public Optional<DependencyPlan> plan(Path workspace, String repository, String command, Map<String, String> env) {
        String path = env.getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
        return DependencyPlan.of(workspace, repository, command, env, Set.copyOf(config.envKeyed()), tool -> toolVersion(tool, path));
    }

    private Optional<String> toolVersion(String tool, String path) {
        String cacheKey = tool + "\n" + path;
        Versioned known = versions.get(cacheKey);
        if (known != null && known.until() > System.nanoTime()) {
            return known.version();
        }
        Optional<String> found = Toolchains.version(tool, path);
        versions.put(cacheKey, new Versioned(found, System.nanoTime() + VERSION_TTL.toNanos()));
        return found;
    }

    /**
     * Restores the plan's directories into the workspace (the build's HOME) for {@code uid}: the
     * exact key, else the newest entry with the same repository and toolchain.
     */
    public Restore restore(DependencyPlan plan, String tenant, Path workspace, int uid, Instant deadline) {
        long start = System.nanoTime();
        Path archive = null;
        try {
            requireRealDirectories(workspace, plan.set().paths());
            RemoteCache remote = remote(tenant, plan.repository(), deadline);
            Optional<RemoteCache.Hit> hit = remote.lookup(plan.storedKey(), List.of(plan.restorePrefix()), version, null);
            if (hit.isEmpty()) {
                return count(new Restore("miss", null, 0, millis(start), null, null, null, null));
            }
            archive = Files.createTempFile(scratch, "restore.", ".archive");
            remote.download(hit.get(), archive);
            PathsArchive.Restored restored = PathsArchive.unpack(archive, compression, workspace, workspace, plan.set().paths(),
                    new RestoreLimits(config.maxRestoreBytes(), config.maxRestoreEntries()));
            handOver(workspace, plan.set().paths(), uid);
            JsonNode provenance = hit.get().provenance();
            Long recorded = provenance.hasNonNull("durationMs") ? provenance.get("durationMs").asLong() : null;
            return count(new Restore(hit.get().exact() ? "hit" : "partial", hit.get().matchedKey(), restored.bytes(), millis(start),
                    builtFrom(provenance), hit.get().digest(), recorded, null));
        } catch (RefusedEntry e) {
            LOG.warnf("Dependency cache: refused the entry for %s (%s); the build downloads its dependencies", plan.repository(),
                    e.getMessage());
            clear(workspace, plan.set().paths());
            return count(new Restore("error", null, 0, millis(start), null, null, null, "refused: " + e.getMessage()));
        } catch (IOException | RuntimeException e) {
            LOG.warnf("Dependency cache: could not restore for %s (%s); the build downloads its dependencies", plan.repository(),
                    e.toString());
            clear(workspace, plan.set().paths());
            return count(new Restore("error", null, 0, millis(start), null, null, null, e.getMessage()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return count(new Restore("error", null, 0, millis(start), null, null, null, "interrupted"));
        } finally {
            deleteQuietly(archive);
        }
    }

    /** A build that restores nothing (fresh): counted, nothing read. */
    public Restore bypassed() {
        return count(new Restore("bypassed", null, 0, 0, null, null, null, null));
    }

    /** Saves the plan's directories after a successful build, with where they came from. */
    public Save save(DependencyPlan plan, Path workspace, int uid, Provenance provenance, Instant deadline) {
        long start = System.nanoTime();
        Path archive = null;
        try {
            requireRealDirectories(workspace, plan.set().paths());
            archive = Files.createTempFile(scratch, "save.", ".archive");
            long entries = PathsArchive.pack(workspace, workspace, plan.set().paths(), compression, archive, uid);
            if (entries == 0) {
                return new Save("empty", 0, millis(start), "the build downloaded nothing into " + plan.set().paths());
            }
            long size = Files.size(archive);
            if (size > config.maxArchiveBytes()) {
                return new Save("too-large", size, millis(start), "the dependency directories are " + size + " bytes compressed, over "
                        + config.maxArchiveBytes() + " (reprise.runner.dependency-cache.max-archive-bytes)");
            }
            Optional<JsonNode> saved = remote(provenance.tenant(), plan.repository(), deadline)
                    .save(plan.storedKey(), version, null, archive, headers(plan, provenance));
            if (saved.isEmpty()) {
                return new Save("exists", size, millis(start), "another build saved this key first");
            }
            metrics.counter("reprise.runner.dependency.cache", "result", "saved").increment();
            return new Save("saved", size, millis(start), null);
        } catch (IOException | RuntimeException e) {
            LOG.warnf("Dependency cache: could not save for %s (%s); the build is unaffected", plan.repository(), e.toString());
            return new Save("error", 0, millis(start), e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new Save("error", 0, millis(start), "interrupted");
        } finally {
            deleteQuietly(archive);
        }
    }

    /** Counts the build time a restore saved: the saving build's step time less this build's. */
    public void timeSaved(Restore restore, long stepMs) {
        if (restore.recordedMs() != null && restore.recordedMs() > stepMs) {
            metrics.counter("reprise.runner.dependency.cache.time.saved").increment((restore.recordedMs() - stepMs) / 1000.0);
        }
    }

    private RemoteCache remote(String tenant, String repository, Instant deadline) {
        // A ticket for this tenant's entries only, worthless once the build is over.
        String ticket = tickets.issue(tenant, StreamTickets.ARTIFACTS, deadline.plus(Duration.ofMinutes(5)));
        return new RemoteCache(config.url(), RemoteCache.DEPENDENCIES, ticket, config.timeout(), Map.of("X-Reprise-Repository", repository));
    }

    private static Map<String, String> headers(DependencyPlan plan, Provenance p) throws IOException {
        Map<String, String> headers = new LinkedHashMap<>();
        headers.put("X-Reprise-Repository", plan.repository());
        headers.put("X-Reprise-Commit", p.commit());
        if (p.commitMessage() != null && !p.commitMessage().isBlank()) {
            // Percent-encoded UTF-8: a header carries neither line ends nor every character.
            String subject = p.commitMessage().strip().lines().findFirst().orElse("");
            headers.put("X-Reprise-Commit-Message", URLEncoder.encode(subject.length() > 200 ? subject.substring(0, 200) : subject,
                    StandardCharsets.UTF_8).replace("+", "%20"));
        }
        if (p.branch() != null && !p.branch().isBlank()) {
            headers.put("X-Reprise-Branch", p.branch());
        }
        headers.put("X-Reprise-Build-Id", p.buildId());
        headers.put("X-Reprise-Toolchain", JSON.writeValueAsString(plan.toolchains()));
        headers.put("X-Reprise-Duration-Ms", Long.toString(p.durationMs()));
        headers.put("X-Reprise-Dependency-Digests", JSON.writeValueAsString(
                p.restoredDigest() == null ? Map.of() : Map.of("restored", p.restoredDigest())));
        headers.put("X-Reprise-Lockfile-Hash", plan.lockfileHash());
        return headers;
    }

    /** "commit 1a2b3c4 'message' on main, build b-…, with java 17.0.13, mvn 3.8.7", from what the store kept. */
    static String builtFrom(JsonNode provenance) {
        if (provenance == null || !provenance.isObject() || !provenance.hasNonNull("commit")) {
            return null;
        }
        StringBuilder text = new StringBuilder("commit ").append(abbreviate(provenance.get("commit").asText()));
        if (provenance.hasNonNull("commitMessage")) {
            text.append(" '").append(provenance.get("commitMessage").asText()).append('\'');
        }
        if (provenance.hasNonNull("branch")) {
            text.append(" on ").append(provenance.get("branch").asText());
        }
        if (provenance.hasNonNull("buildId")) {
            text.append(", build ").append(provenance.get("buildId").asText());
        }
        JsonNode toolchain = provenance.path("toolchain");
        if (toolchain.isObject() && toolchain.size() > 0) {
            StringBuilder tools = new StringBuilder();
            toolchain.fields().forEachRemaining(f -> tools.append(tools.isEmpty() ? "" : ", ").append(f.getKey()).append(' ')
                    .append(f.getValue().asText()));
            text.append(", with ").append(tools);
        }
        return text.toString();
    }

    private static String abbreviate(String commit) {
        return commit.length() > 12 ? commit.substring(0, 12) : commit;
    }

    /**
     * Refuses a dependency directory reached through a symlink, or through anything but real
     * directories, from the workspace down: the checkout is the tenant's, and a {@code .m2} that
     * links to the runner's own files must be neither written into nor read from.
     */
    static void requireRealDirectories(Path workspace, List<String> paths) throws RefusedEntry {
        for (String relative : paths) {
            Path dir = workspace;
            for (Path name : Path.of(relative)) {
                dir = dir.resolve(name);
                BasicFileAttributes attrs;
                try {
                    attrs = Files.readAttributes(dir, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS);
                } catch (IOException e) {
                    break; // not there (yet): nothing to go through
                }
                if (!attrs.isDirectory()) {
                    throw RefusedEntry.conflict("'" + workspace.relativize(dir) + "' in the workspace is "
                            + (attrs.isSymbolicLink() ? "a symlink" : "not a directory") + "; the dependency cache goes through real directories only");
                }
            }
        }
    }

    /** Gives what a restore wrote (and the directories it made on the way) to the build's uid; never through a symlink. */
    private static void handOver(Path workspace, List<String> paths, int uid) throws IOException {
        if (uid < 0) {
            return;
        }
        for (String relative : paths) {
            Path dir = workspace;
            for (Path name : Path.of(relative)) {
                dir = dir.resolve(name);
                if (!Files.isDirectory(dir, LinkOption.NOFOLLOW_LINKS)) {
                    break;
                }
                own(dir, uid);
            }
            Path root = workspace.resolve(relative);
            if (Files.isDirectory(root, LinkOption.NOFOLLOW_LINKS)) {
                Files.walkFileTree(root, new SimpleFileVisitor<>() {
                    @Override
                    public FileVisitResult preVisitDirectory(Path d, BasicFileAttributes attrs) throws IOException {
                        own(d, uid);
                        return FileVisitResult.CONTINUE;
                    }

                    @Override
                    public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                        own(file, uid);
                        return FileVisitResult.CONTINUE;
                    }
                });
            }
        }
    }

    private static void own(Path path, int uid) throws IOException {
        Files.setAttribute(path, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
        Files.setAttribute(path, "unix:gid", uid, LinkOption.NOFOLLOW_LINKS);
    }

    /** After a refused or broken restore, what it may have written goes: the build starts as on a miss. */
    private static void clear(Path workspace, List<String> paths) {
        for (String relative : paths) {
            Path root = workspace.resolve(relative);
            try {
                requireRealDirectories(workspace, List.of(relative));
                BuildExecutor.deleteRecursively(root);
            } catch (IOException | RuntimeException e) {
                LOG.warnf("Dependency cache: could not clear %s (%s)", root, e.getMessage());
            }
        }
    }

    private Restore count(Restore restore) {
        metrics.counter("reprise.runner.dependency.cache", "result", restore.result()).increment();
        return restore;
    }

    private static long millis(long start) {
        return (System.nanoTime() - start) / 1_000_000;
    }

    private static void deleteQuietly(Path file) {
        if (file != null) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException e) {
                LOG.debugf("could not delete %s: %s", file, e.getMessage());
            }
        }
    }
}
