package dev.reprise.artifact.service;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The order actions/cache-style restore tries keys in: within the request's branch scope, then
 * the default branch's, the key and then each restore key; each candidate as an exact key first,
 * then as a prefix (most recent entry first, which the index query orders).
 */
public final class RestoreOrder {

    /** One lookup: a candidate key (exact, then as prefix) in one branch scope. */
    public record Attempt(String candidate, String branch) {
    }

    private RestoreOrder() {
    }

    public static List<Attempt> attempts(String key, List<String> restoreKeys, String branch, String defaultBranch) {
        Set<String> scopes = new LinkedHashSet<>();
        scopes.add(branch == null ? defaultBranch : branch);
        scopes.add(defaultBranch);
        Set<String> candidates = new LinkedHashSet<>();
        candidates.add(key);
        candidates.addAll(restoreKeys);
        List<Attempt> attempts = new ArrayList<>();
        for (String scope : scopes) {
            for (String candidate : candidates) {
                attempts.add(new Attempt(candidate, scope));
            }
        }
        return attempts;
    }
}
