package dev.reprise.taskcache;

import dev.reprise.events.RepositoryUrl;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * A checkout's dependency cache, worked out the one way the runner and the CLI share: its
 * {@link DependencySet}, the versions of the tools it names, the {@link DependencyKeys dependency
 * key}, and the key's prefix of repository and toolchain under which the newest entry is the
 * fallback (a partial hit). Stored keys are {@code deps-<16 hex of repository and toolchain>-<key>}.
 */
public record DependencyPlan(DependencySet set, String key, String restorePrefix, Map<String, String> toolchains, String repository,
        String canonical) {

    /** Request variables that change what gets installed, and so are part of the key, by default. */
    public static final String ENV_KEYED = "NODE_ENV,NPM_CONFIG_PRODUCTION,NPM_CONFIG_REGISTRY,YARN_REGISTRY,PIP_INDEX_URL,GOPROXY,GOFLAGS,MAVEN_ARGS";

    /** The key as stored: the restore prefix (repository and toolchain) and the dependency key. */
    public String storedKey() {
        return restorePrefix + key;
    }

    /** One hash of the lockfiles: what the index keeps and invalidates by. */
    public String lockfileHash() {
        return set.lockfileHash();
    }

    /**
     * The plan of the checkout at {@code root}; empty when it pins nothing a dependency cache knows.
     *
     * @param command the build command (its hash is the key's build configuration)
     * @param env the build's environment; only {@code envKeyed} names count
     * @param versionOf a tool's version on this node (e.g. {@link Toolchains#version} on the build's PATH); empty: not there
     */
    public static Optional<DependencyPlan> of(Path root, String repository, String command, Map<String, String> env, Set<String> envKeyed,
            Function<String, Optional<String>> versionOf) {
        DependencySet set = DependencySet.of(root);
        if (set.isEmpty()) {
            return Optional.empty();
        }
        Map<String, String> toolchains = new TreeMap<>();
        for (String tool : set.tools()) {
            versionOf.apply(tool).ifPresent(v -> toolchains.put(tool, v));
        }
        String normalized = RepositoryUrl.parse(repository).normalized();
        DependencyKeys.Inputs inputs = new DependencyKeys.Inputs(normalized, set.lockfiles(), toolchains, env, envKeyed,
                DependencyKeys.sha256(command.getBytes(StandardCharsets.UTF_8)));
        String scope = DependencyKeys.sha256((normalized + "\n" + toolchains).getBytes(StandardCharsets.UTF_8)).substring(0, 16);
        return Optional.of(new DependencyPlan(set, DependencyKeys.key(inputs), "deps-" + scope + "-", Map.copyOf(toolchains), normalized,
                DependencyKeys.canonical(inputs)));
    }

    /** The plan as {@code reprise-cache deps} prints it: what was found, what keys it, the key. */
    public List<String> describe() {
        List<String> lines = new java.util.ArrayList<>();
        lines.add("ecosystems:     " + String.join(", ", set.ecosystems().stream().sorted().map(e -> e.name().toLowerCase()).toList()));
        lines.add("directories:    " + String.join(", ", set.paths()) + "  (under HOME)");
        new TreeMap<>(set.lockfiles()).forEach((path, hash) -> lines.add("lockfile:       " + path + "  " + hash));
        lines.add("toolchain:      " + String.join(", ", new TreeMap<>(toolchains).entrySet().stream()
                .map(e -> e.getKey() + " " + e.getValue()).toList()));
        lines.add("lockfile hash:  " + lockfileHash());
        lines.add("key:            " + storedKey());
        lines.add("restore prefix: " + restorePrefix + "  (the newest entry of this repository and toolchain)");
        lines.add("keyed on:       " + canonical);
        return lines;
    }
}
