package dev.reprise.gateway.service;

import dev.reprise.gateway.config.BuildsConfig;
import dev.reprise.gateway.store.BuildStore;
import dev.reprise.gateway.store.BuildStore.KeyRow;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeSet;

/**
 * Why a build hit or missed: its key's inputs, compared with the tenant's previous build of the same
 * repository (the nearest entry a user expects to hit), input by input, with the reason in words. The
 * versions in a key (tool, runner, image) are this gateway's settings: a previous key that they no longer
 * reproduce means they changed since.
 */
@ApplicationScoped
public class KeyExplainer {

    /** One input that differs: its name ({@code commit}, {@code env.NAME}, …) and both values. */
    public record Difference(String input, String thisBuild, String previousBuild) {
    }

    /** A build's key explained. */
    public record Explanation(String buildId, String cacheKey, boolean cached, Map<String, Object> inputs, boolean reproduced,
            Compared comparedWith, List<Difference> differences, String explanation) {
    }

    /** The build it is compared with. */
    public record Compared(String buildId, String cacheKey, String status, boolean cached, OffsetDateTime requestedAt) {
    }

    private final BuildStore builds;
    private final BuildsConfig config;

    public KeyExplainer(BuildStore builds, BuildsConfig config) {
        this.builds = builds;
        this.config = config;
    }

    public Uni<Optional<Explanation>> explain(String tenantId, String buildId) {
        return builds.keyRow(tenantId, buildId).chain(found -> found.isEmpty()
                ? Uni.createFrom().item(Optional.<Explanation>empty())
                : builds.previousOf(tenantId, found.get().repository(), found.get().requestedAt(), buildId)
                        .map(previous -> Optional.of(explain(tenantId, found.get(), previous))));
    }

    private CacheKeys.Inputs inputs(String tenantId, KeyRow row) {
        return new CacheKeys.Inputs(tenantId, row.repository(), row.commit(), row.tool(),
                config.toolVersions().getOrDefault(row.tool(), "unknown"), config.runnerVersion(), config.imageDigest(), row.command(),
                row.env());
    }

    Explanation explain(String tenantId, KeyRow build, Optional<KeyRow> previous) {
        CacheKeys.Inputs in = inputs(tenantId, build);
        Map<String, Object> shown = new java.util.LinkedHashMap<>();
        shown.put("tenant", in.tenant());
        shown.put("repository", in.repository());
        shown.put("commit", in.commit());
        shown.put("tool", in.tool());
        shown.put("toolVersion", in.toolVersion());
        shown.put("runnerVersion", in.runnerVersion());
        shown.put("image", in.image());
        shown.put("command", in.command());
        shown.put("env", new java.util.TreeMap<>(in.env()));
        boolean reproduced = CacheKeys.key(in).equals(build.cacheKey());
        if (previous.isEmpty()) {
            return new Explanation(build.id(), build.cacheKey(), build.cached(), shown, reproduced, null, List.of(),
                    build.cached() ? "a hit" : "the first build of this repository for this tenant: nothing to hit yet");
        }
        KeyRow before = previous.get();
        List<Difference> differences = new ArrayList<>();
        differ(differences, "commit", build.commit(), before.commit());
        differ(differences, "tool", build.tool(), before.tool());
        differ(differences, "command", build.command(), before.command());
        for (String name : new TreeSet<>(union(build.env().keySet(), before.env().keySet()))) {
            differ(differences, "env." + name, build.env().get(name), before.env().get(name));
        }
        boolean previousReproduced = CacheKeys.key(inputs(tenantId, before)).equals(before.cacheKey());
        Compared compared = new Compared(before.id(), before.cacheKey(), before.status(), before.cached(), before.requestedAt());
        return new Explanation(build.id(), build.cacheKey(), build.cached(), shown, reproduced, compared, differences,
                sentence(build, before, differences, reproduced && previousReproduced));
    }

    private static String sentence(KeyRow build, KeyRow before, List<Difference> differences, boolean versionsUnchanged) {
        boolean sameKey = build.cacheKey().equals(before.cacheKey());
        if (build.cached()) {
            return sameKey ? "a hit: the same key as build " + before.id() : "a hit on an earlier recording of this key";
        }
        if (!differences.isEmpty()) {
            return "a miss: " + String.join(", ", differences.stream().map(Difference::input).toList()) + " differ"
                    + (differences.size() == 1 ? "s" : "") + " from build " + before.id() + ", so the key is new";
        }
        if (!sameKey) {
            return versionsUnchanged
                    ? "a miss: the key differs from build " + before.id() + " though every input shown is the same"
                    : "a miss: this gateway's tool, runner or image version (reprise.builds.*) changed since build " + before.id()
                            + ", and every key changed with it";
        }
        if (build.fresh()) {
            return "ran live because it asked for a fresh build (\"fresh\": true); the key is the same as build " + before.id();
        }
        return switch (before.status()) {
            case "QUEUED", "RUNNING" -> "a miss: build " + before.id() + " of the same key was still running, so nothing was recorded yet";
            case "TIMEOUT", "CANCELLED", "INTERRUPTED" -> "a miss: build " + before.id() + " of the same key ended " + before.status()
                    + ", and such builds are never recorded";
            default -> "a miss: build " + before.id() + " had the same key, but its recording is gone (expired, evicted or"
                    + " invalidated) or was not stored";
        };
    }

    private static void differ(List<Difference> differences, String input, String mine, String theirs) {
        if (!Objects.equals(mine, theirs)) {
            differences.add(new Difference(input, mine, theirs));
        }
    }

    private static java.util.Set<String> union(java.util.Set<String> a, java.util.Set<String> b) {
        java.util.Set<String> all = new java.util.HashSet<>(a);
        all.addAll(b);
        return all;
    }
}
