package dev.reprise.cli;

import dev.reprise.taskcache.CacheStats;
import dev.reprise.taskcache.LocalCache;
import dev.reprise.taskcache.PathsArchive;
import dev.reprise.taskcache.RemoteCache;
import dev.reprise.taskcache.TaskCache;
import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code reprise-cache}: skip a build step whose inputs are unchanged, anywhere in the team. */
@Command(name = "reprise-cache", mixinStandardHelpOptions = true, version = "reprise-cache 0.1.0",
        description = {"Caches a build step's outputs and logs by the hash of its inputs, locally and in the Reprise artifact service.",
                "", "Example:  reprise-cache run --inputs 'src/**' --outputs 'build/**' -- make", ""},
        subcommands = {Main.Run.class, Main.Cache.class, Main.Deps.class, Main.Train.class},
        footer = {"", "Settings: .reprise.json (" + Settings.FIELDS + ") in this directory or a parent;",
                "REPRISE_REMOTE_URL and REPRISE_TOKEN select the remote cache. Exit codes: the task's own; 2 for bad usage."})
public final class Main implements Callable<Integer> {

    /** Where the commands run (tests point it elsewhere). */
    static Path workspace = Path.of("").toAbsolutePath();
    static Map<String, String> environment = System.getenv();

    public static void main(String[] args) {
        System.exit(execute(args, System.out, System.err));
    }

    static int execute(String[] args, PrintStream out, PrintStream err) {
        // `run` is the hot path (a cache hit should take a blink): picocli then models that one command,
        // not all eleven (about a third of a hit's start-up); its usage and errors read the same.
        boolean run = args.length > 0 && args[0].equals("run");
        CommandLine cli = run ? new CommandLine(new Run()).setCommandName("reprise-cache run") : new CommandLine(new Main());
        if (run) {
            args = java.util.Arrays.copyOfRange(args, 1, args.length);
        }
        cli.setOut(new java.io.PrintWriter(out, true));
        cli.setErr(new java.io.PrintWriter(err, true));
        cli.setExecutionExceptionHandler((e, line, parsed) -> {
            err.println("reprise-cache: " + e.getMessage());
            return 1;
        });
        Streams.set(out, err);
        return cli.execute(args);
    }

    @Override
    public Integer call() {
        CommandLine.usage(this, Streams.out);
        return 2;
    }

    /**
     * A miss and a hit of a tiny task in a scratch directory, nothing printed: what the launcher
     * ({@code cli/reprise-cache}) runs once per jar and Java to record the classes a run loads into a
     * class-data-sharing archive, so every later start maps them instead of loading them (about half
     * of a hit's wall time).
     */
    @Command(name = "train", hidden = true)
    static final class Train implements Callable<Integer> {
        @Override
        public Integer call() throws Exception {
            Path scratch = java.nio.file.Files.createTempDirectory("reprise-cache-train");
            Path saved = workspace;
            PrintStream sink = new PrintStream(java.io.OutputStream.nullOutputStream());
            try {
                java.nio.file.Files.createDirectories(scratch.resolve("src"));
                java.nio.file.Files.writeString(scratch.resolve("src/a.txt"), "train");
                workspace = scratch;
                String[] run = {"run", "--no-remote", "--cache-dir", scratch.resolve("cache").toString(), "--inputs", "src/**",
                        "--outputs", "out/**", "--", "sh", "-c", "mkdir -p out && cp src/a.txt out/a.txt"};
                for (int i = 0; i < 2; i++) { // a miss, then a hit
                    LocalCache.deleteTree(scratch.resolve("out"));
                    execute(run, sink, sink);
                }
                execute(new String[] {"--help"}, sink, sink);
                return 0;
            } finally {
                workspace = saved;
                Streams.set(System.out, System.err);
                LocalCache.deleteTree(scratch);
            }
        }
    }

    /** The terminal the commands write to. */
    static final class Streams {
        static PrintStream out = System.out;
        static PrintStream err = System.err;

        static void set(PrintStream o, PrintStream e) {
            out = o;
            err = e;
        }
    }

    /** Options every command shares. */
    static class Common {
        @Option(names = "--cache-dir", description = "the local cache directory (default: .reprise.json's cacheDir, $REPRISE_CACHE_DIR, ~/.cache/reprise/tasks)")
        Path cacheDir;

        Settings settings() throws java.io.IOException {
            return Settings.load(workspace);
        }

        LocalCache local(Settings settings) throws java.io.IOException {
            return new LocalCache(cacheDir != null ? cacheDir : settings.cacheDirectory(workspace, environment), settings.restoreLimits());
        }
    }

    @Command(name = "run", mixinStandardHelpOptions = true,
            description = {"Runs COMMAND unless an identical run is cached; then its outputs are restored and its log replayed.",
                    "The key: input files' paths and hashes, the command, the listed variables and the detected toolchain."})
    static final class Run extends Common implements Callable<Integer> {
        @Option(names = "--inputs", arity = "1..*", description = "globs of input files, relative to this directory (e.g. 'src/**' pom.xml)")
        List<String> inputs = List.of();
        @Option(names = "--outputs", arity = "1..*", description = "globs of outputs; none: what the command creates or changes")
        List<String> outputs = List.of();
        @Option(names = "--env", arity = "1..*", description = "names of environment variables that change the result")
        List<String> env = List.of();
        @Option(names = "--cache-failures", description = "also cache a run that exits non-zero")
        boolean cacheFailures;
        @Option(names = "--no-remote", description = "use the local cache only")
        boolean noRemote;
        @Option(names = "--no-verify", description = "trust local entries without re-hashing them")
        boolean noVerify;
        @Parameters(arity = "1..*", paramLabel = "COMMAND", description = "the command and its arguments (after --)")
        List<String> command;

        @Override
        public Integer call() throws Exception {
            Settings settings = settings();
            LocalCache local = local(settings);
            Optional<RemoteCache> remote = Optional.empty();
            Optional<String> url = settings.remote(environment);
            if (url.isPresent() && !noRemote) {
                String token = environment.get("REPRISE_TOKEN");
                if (token == null || token.isBlank()) {
                    Streams.err.println("reprise-cache: " + url.get() + " is set but REPRISE_TOKEN is not; using the local cache only");
                } else {
                    remote = Optional.of(new RemoteCache(URI.create(url.get()), token, Duration.ofSeconds(10)));
                }
            }
            java.util.Set<String> excluded = new HashSet<>(settings.exclude());
            Path cacheRoot = local.root().toAbsolutePath().normalize();
            if (cacheRoot.startsWith(workspace)) {
                excluded.add(dev.reprise.taskcache.Inputs.relative(workspace, cacheRoot));
            }
            TaskCache cache = new TaskCache(local, remote, settings.verifyOnRead() && !noVerify, excluded, Streams.err);
            TaskCache.Result result = cache.run(new TaskCache.Task(workspace, inputs, outputs, env, command, cacheFailures), environment,
                    Streams.out, Streams.err);
            if (result.hit()) {
                Streams.err.printf("reprise-cache: %s hit %s (restored in %d ms)%n", result.source(), result.key().substring(0, 12), result.millis());
            }
            return result.exitCode();
        }
    }

    @Command(name = "deps", mixinStandardHelpOptions = true,
            description = {"Show the dependency cache a Reprise runner keeps for a checkout: the lockfiles and ecosystems it finds,",
                    "the directories it restores and saves, the toolchain versions on this machine and the key they make",
                    "(the same as the runner's for the same repository, command and tool versions). Exit 1 when nothing is pinned."})
    static final class Deps implements Callable<Integer> {
        @Parameters(arity = "0..1", description = "the checkout (default: this directory)")
        Path dir;
        @Option(names = "--repository", description = "the repository URL as builds name it (default: git's remote.origin.url)")
        String repository;
        @Option(names = "--command", required = true, description = "the build command, e.g. 'mvn -B verify' (it is part of the key)")
        String command;

        @Override
        public Integer call() throws Exception {
            Path root = (dir == null ? workspace : workspace.resolve(dir)).toAbsolutePath().normalize();
            String repo = repository != null ? repository : origin(root);
            java.util.Set<String> keyed = java.util.Set.of(dev.reprise.taskcache.DependencyPlan.ENV_KEYED.split(","));
            String path = environment.getOrDefault("PATH", "/usr/local/bin:/usr/bin:/bin");
            java.util.Optional<dev.reprise.taskcache.DependencyPlan> plan = dev.reprise.taskcache.DependencyPlan.of(root, repo, command,
                    environment, keyed, tool -> dev.reprise.taskcache.Toolchains.version(tool, path));
            if (plan.isEmpty()) {
                Streams.err.println("reprise-cache: no lockfile or build file in " + root + " that a dependency cache keys on");
                return 1;
            }
            Streams.out.println("repository:     " + plan.get().repository());
            plan.get().describe().forEach(Streams.out::println);
            return 0;
        }

        private String origin(Path root) throws java.io.IOException, InterruptedException {
            Process git = new ProcessBuilder("git", "-C", root.toString(), "config", "--get", "remote.origin.url").redirectErrorStream(true).start();
            String url = new String(git.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
            if (git.waitFor() != 0 || url.isEmpty()) {
                throw new CommandLine.ParameterException(new CommandLine(this), "no git remote 'origin' in " + root + ": give --repository");
            }
            return url;
        }
    }

    @Command(name = "cache", mixinStandardHelpOptions = true,
            description = {"Restore and save paths in the Reprise artifact service the way GitHub's actions/cache does",
                    "(restore, save: same keys, versions and archives); manage the local task cache (stats, clean, prune, verify)."},
            subcommands = {Restore.class, Save.class, Stats.class, Clean.class, Prune.class, Verify.class})
    static final class Cache implements Callable<Integer> {
        @Override
        public Integer call() {
            CommandLine.usage(this, Streams.out);
            return 2;
        }
    }

    /** What {@code cache restore} and {@code cache save} share: the paths, the key, the remote and the workspace. */
    abstract static class PathsCommand extends Common {
        @Option(names = "--key", required = true, description = "the cache key (printable ASCII, no ',', at most 512 characters)")
        String key;
        @Option(names = "--path", required = true, arity = "1..*", description = "files, directories or globs to cache; ~ is $HOME, relative ones are under the workspace ($GITHUB_WORKSPACE, else this directory)")
        List<String> paths;
        @Option(names = "--branch", description = "the branch scope (default: $GITHUB_HEAD_REF or $GITHUB_REF_NAME; restores fall back to the default branch)")
        String branch;

        RemoteCache remote(Settings settings) {
            String url = settings.remote(environment).orElseThrow(() -> new CommandLine.ParameterException(new CommandLine(this),
                    "set REPRISE_REMOTE_URL (or remoteUrl in .reprise.json) to the artifact service, e.g. http://reprise:8083"));
            String token = environment.get("REPRISE_TOKEN");
            if (token == null || token.isBlank()) {
                throw new CommandLine.ParameterException(new CommandLine(this), "set REPRISE_TOKEN to a Reprise API token");
            }
            return new RemoteCache(URI.create(url), token, Duration.ofMinutes(5));
        }

        Path workspaceRoot() {
            String github = environment.get("GITHUB_WORKSPACE");
            return (github != null && !github.isBlank() ? Path.of(github) : workspace).toAbsolutePath().normalize();
        }

        Path home() {
            return Path.of(environment.getOrDefault("HOME", System.getProperty("user.home"))).toAbsolutePath().normalize();
        }

        String branchScope() {
            if (branch != null) {
                return branch;
            }
            String head = environment.get("GITHUB_HEAD_REF");
            return head != null && !head.isBlank() ? head : environment.get("GITHUB_REF_NAME");
        }

        /** Sets a step output as GitHub Actions reads them ($GITHUB_OUTPUT), and prints it. */
        void output(String name, String value) throws java.io.IOException {
            Streams.out.println(name + "=" + value);
            String file = environment.get("GITHUB_OUTPUT");
            if (file != null && !file.isBlank()) {
                java.nio.file.Files.writeString(Path.of(file), name + "=" + value + "\n", java.nio.file.StandardOpenOption.CREATE,
                        java.nio.file.StandardOpenOption.APPEND);
            }
        }
    }

    @Command(name = "restore", mixinStandardHelpOptions = true,
            description = {"Restores paths saved under --key (exact, then as a prefix), else under the first --restore-keys prefix that matches;",
                    "prints cache-hit=true only for an exact key. A miss, or a cache that cannot be reached, is not an error."})
    static final class Restore extends PathsCommand implements Callable<Integer> {
        @Option(names = "--restore-keys", split = ",", description = "prefixes to fall back to, in order")
        List<String> restoreKeys = List.of();
        @Option(names = "--fail-on-miss", description = "exit 1 when nothing matched")
        boolean failOnMiss;
        @Option(names = "--lookup-only", description = "only say whether an entry exists; download nothing")
        boolean lookupOnly;

        @Override
        public Integer call() throws Exception {
            Settings settings = settings();
            RemoteCache remote = remote(settings);
            PathsArchive.Compression compression = PathsArchive.Compression.detect();
            String version = PathsArchive.version(paths, compression);
            output("cache-primary-key", key);
            Optional<RemoteCache.Hit> hit;
            try {
                hit = remote.lookup(key, restoreKeys, version, branchScope());
            } catch (java.io.IOException e) {
                Streams.err.println("reprise-cache: the cache could not be read (" + e.getMessage() + "); continuing without it");
                hit = Optional.empty();
            }
            if (hit.isPresent() && !lookupOnly) {
                Path archive = java.nio.file.Files.createTempFile("reprise-restore.", compression == PathsArchive.Compression.ZSTD ? ".tzst" : ".tgz");
                try {
                    long started = System.nanoTime();
                    remote.download(hit.get(), archive);
                    PathsArchive.Restored restored = PathsArchive.unpack(archive, compression, workspaceRoot(), home(), paths, settings.restoreLimits());
                    Streams.err.printf("reprise-cache: restored %s (%d entries, %d bytes of files, %d ms)%n", hit.get().matchedKey(),
                            restored.entries(), restored.bytes(), (System.nanoTime() - started) / 1_000_000);
                } catch (dev.reprise.taskcache.RefusedEntry e) {
                    Streams.err.println("reprise-cache: refusing the archive of " + hit.get().matchedKey() + ": " + e.getMessage());
                    hit = Optional.empty();
                } catch (java.io.IOException e) {
                    Streams.err.println("reprise-cache: restoring " + hit.get().matchedKey() + " failed (" + e.getMessage() + "); continuing without it");
                    hit = Optional.empty();
                } finally {
                    java.nio.file.Files.deleteIfExists(archive);
                }
            }
            boolean exact = hit.isPresent() && hit.get().exact();
            output("cache-hit", String.valueOf(exact));
            output("cache-matched-key", hit.map(RemoteCache.Hit::matchedKey).orElse(""));
            if (hit.isEmpty()) {
                Streams.err.println("reprise-cache: no cache for " + key + (restoreKeys.isEmpty() ? "" : " or " + String.join(", ", restoreKeys)));
                return failOnMiss ? 1 : 0;
            }
            return 0;
        }
    }

    @Command(name = "save", mixinStandardHelpOptions = true,
            description = {"Saves paths under --key unless that key already exists (entries are immutable).",
                    "A cache that cannot be reached is a warning, not an error."})
    static final class Save extends PathsCommand implements Callable<Integer> {
        @Override
        public Integer call() throws Exception {
            Settings settings = settings();
            RemoteCache remote = remote(settings);
            PathsArchive.Compression compression = PathsArchive.Compression.detect();
            String version = PathsArchive.version(paths, compression);
            Path archive = java.nio.file.Files.createTempFile("reprise-save.", compression == PathsArchive.Compression.ZSTD ? ".tzst" : ".tgz");
            try {
                long started = System.nanoTime();
                long entries = PathsArchive.pack(workspaceRoot(), home(), paths, compression, archive);
                if (entries == 0) {
                    Streams.err.println("reprise-cache: no files match " + String.join(", ", paths) + "; nothing saved");
                    return 0;
                }
                boolean saved = remote.upload(key, version, branchScope(), archive, provenance());
                Streams.err.printf("reprise-cache: %s %s (%d entries, %d bytes, %d ms)%n", saved ? "saved" : "not saving, it already exists:", key,
                        entries, java.nio.file.Files.size(archive), (System.nanoTime() - started) / 1_000_000);
            } catch (java.io.IOException e) {
                Streams.err.println("reprise-cache: saving " + key + " failed (" + e.getMessage() + ")");
            } finally {
                java.nio.file.Files.deleteIfExists(archive);
            }
            return 0;
        }

        /** What the runner's environment says about this save (GitHub Actions' variables), as the store records provenance. */
        private Map<String, String> provenance() {
            Map<String, String> headers = new java.util.LinkedHashMap<>();
            String server = environment.get("GITHUB_SERVER_URL");
            String repository = environment.get("GITHUB_REPOSITORY");
            if (server != null && !server.isBlank() && repository != null && !repository.isBlank()) {
                headers.put("X-Reprise-Repository", server.replaceAll("/+$", "") + "/" + repository);
            }
            putIfSet(headers, "X-Reprise-Commit", environment.get("GITHUB_SHA"));
            putIfSet(headers, "X-Reprise-Branch", branchScope());
            String run = environment.get("GITHUB_RUN_ID");
            if (run != null && !run.isBlank()) {
                String attempt = environment.get("GITHUB_RUN_ATTEMPT");
                headers.put("X-Reprise-Build-Id", "github-run-" + run + (attempt == null || attempt.isBlank() ? "" : "-" + attempt));
            }
            return headers;
        }

        private static void putIfSet(Map<String, String> headers, String name, String value) {
            if (value != null && !value.isBlank()) {
                headers.put(name, value);
            }
        }
    }

    @Command(name = "stats", mixinStandardHelpOptions = true, description = "Entries, bytes, hits and misses, average restore and store time, last prune.")
    static final class Stats extends Common implements Callable<Integer> {
        @Override
        public Integer call() throws Exception {
            LocalCache local = local(settings());
            long[] usage = local.usage();
            CacheStats s = local.updateStats(x -> x);
            Streams.out.printf("cache:        %s%nentries:      %d%nbytes:        %d%nhits:         %d%nmisses:       %d%n"
                            + "avg restore:  %d ms%navg store:    %d ms%nlast prune:   %s%n",
                    local.root(), usage[0], usage[1], s.hits(), s.misses(), s.hits() == 0 ? 0 : s.restoreMillis() / s.hits(),
                    s.stores() == 0 ? 0 : s.storeMillis() / s.stores(), s.lastPrune() == null ? "never" : s.lastPrune());
            return 0;
        }
    }

    @Command(name = "clean", mixinStandardHelpOptions = true, description = "Remove every entry.")
    static final class Clean extends Common implements Callable<Integer> {
        @Override
        public Integer call() throws Exception {
            Streams.out.println("removed " + local(settings()).clean() + " entries");
            return 0;
        }
    }

    @Command(name = "prune", mixinStandardHelpOptions = true, description = "Remove entries older than --max-age, then least recently used ones above --max-size.")
    static final class Prune extends Common implements Callable<Integer> {
        @Option(names = "--max-size", description = "e.g. 10GB (default: .reprise.json's maxSize, 10GB)")
        String maxSize;
        @Option(names = "--max-age", description = "e.g. 30d (default: .reprise.json's maxAge, 30d)")
        String maxAge;

        @Override
        public Integer call() throws Exception {
            Settings settings = settings();
            long size = Settings.parseSize(maxSize != null ? maxSize : settings.maxSize());
            Duration age = Settings.parseAge(maxAge != null ? maxAge : settings.maxAge());
            LocalCache local = local(settings);
            LocalCache.Pruned pruned = local.prune(size, age);
            local.updateStats(s -> s.pruned(Instant.now().toString()));
            Streams.out.printf("removed %d entries (%d bytes)%n", pruned.entries(), pruned.bytes());
            return 0;
        }
    }

    @Command(name = "verify", mixinStandardHelpOptions = true, description = "Re-hash every entry; report and remove damaged ones (exit 1 if any).")
    static final class Verify extends Common implements Callable<Integer> {
        @Override
        public Integer call() throws Exception {
            List<String> corrupt = local(settings()).verify();
            corrupt.forEach(key -> Streams.out.println("corrupt, removed: " + key));
            Streams.out.println(corrupt.isEmpty() ? "all entries intact" : corrupt.size() + " corrupt entries removed");
            return corrupt.isEmpty() ? 0 : 1;
        }
    }
}
