package dev.reprise.taskcache;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * What a checkout's dependency cache is made of: the ecosystems its lockfiles (and build files)
 * name, the directories under the build's HOME those ecosystems' tools download into, and the
 * tools whose versions are part of the key. Found by {@link #of}; empty when nothing is pinned.
 */
public record DependencySet(Map<String, String> lockfiles, Set<Ecosystem> ecosystems) {

    /** An ecosystem: the files that announce it, the HOME-relative directories its downloads live in, its tools. */
    public enum Ecosystem {
        MAVEN(List.of("pom.xml", "lockfile.json"), List.of(".m2/repository"), List.of("java", "mvn")),
        GRADLE(List.of("build.gradle", "build.gradle.kts", "settings.gradle", "settings.gradle.kts", "gradle.lockfile",
                "gradle-wrapper.properties", "libs.versions.toml"), List.of(".gradle/caches/modules-2", ".gradle/wrapper/dists"),
                List.of("java")),
        NPM(List.of("package-lock.json", "npm-shrinkwrap.json"), List.of(".npm/_cacache"), List.of("node", "npm")),
        YARN(List.of("yarn.lock"), List.of(".cache/yarn"), List.of("node", "yarn")),
        PNPM(List.of("pnpm-lock.yaml"), List.of(".local/share/pnpm/store"), List.of("node", "pnpm")),
        PIP(List.of("requirements.txt", "poetry.lock", "Pipfile.lock"), List.of(".cache/pip"), List.of("python3")),
        GO(List.of("go.sum"), List.of("go/pkg/mod"), List.of("go")),
        CARGO(List.of("Cargo.lock"), List.of(".cargo/registry", ".cargo/git"), List.of("cargo"));

        /** File names (any directory of the checkout) that say a build uses this ecosystem. */
        public final List<String> files;
        /** Directories under HOME that hold what its tools download. */
        public final List<String> paths;
        /** Programs whose versions key its cache. */
        public final List<String> tools;

        Ecosystem(List<String> files, List<String> paths, List<String> tools) {
            this.files = files;
            this.paths = paths;
            this.tools = tools;
        }

        /** The ecosystem a file name announces; null for none. */
        static Ecosystem announcedBy(String fileName) {
            for (Ecosystem ecosystem : values()) {
                if (ecosystem.files.contains(fileName)) {
                    return ecosystem;
                }
            }
            return fileName.endsWith(".lockfile") ? GRADLE : null;
        }
    }

    public DependencySet {
        lockfiles = Map.copyOf(new TreeMap<>(lockfiles));
        ecosystems = ecosystems.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(ecosystems));
    }

    /** The dependency set of a checkout: its lockfiles and build files ({@link DependencyKeys#detect}) and the ecosystems they name. */
    public static DependencySet of(Path checkout) {
        Map<String, String> found = DependencyKeys.detect(checkout);
        Set<Ecosystem> ecosystems = EnumSet.noneOf(Ecosystem.class);
        for (String path : found.keySet()) {
            Ecosystem ecosystem = Ecosystem.announcedBy(path.substring(path.lastIndexOf('/') + 1));
            if (ecosystem != null) {
                ecosystems.add(ecosystem);
            }
        }
        return new DependencySet(found, ecosystems);
    }

    public boolean isEmpty() {
        return ecosystems.isEmpty();
    }

    /** The HOME-relative directories to restore and save, in ecosystem order. */
    public List<String> paths() {
        Set<String> paths = new LinkedHashSet<>();
        sorted().forEach(e -> paths.addAll(e.paths));
        return List.copyOf(paths);
    }

    /** The programs whose versions key the cache, in ecosystem order. */
    public List<String> tools() {
        Set<String> tools = new LinkedHashSet<>();
        sorted().forEach(e -> tools.addAll(e.tools));
        return List.copyOf(tools);
    }

    /** One hash of all lockfiles (sha256 of "path sha256\n" lines in path order): what the index keeps and invalidates by. */
    public String lockfileHash() {
        StringBuilder lines = new StringBuilder();
        new TreeMap<>(lockfiles).forEach((path, hash) -> lines.append(path).append(' ').append(hash).append('\n'));
        return DependencyKeys.sha256(lines.toString().getBytes(StandardCharsets.UTF_8));
    }

    private List<Ecosystem> sorted() {
        List<Ecosystem> sorted = new ArrayList<>(ecosystems);
        sorted.sort(null);
        return sorted;
    }
}
