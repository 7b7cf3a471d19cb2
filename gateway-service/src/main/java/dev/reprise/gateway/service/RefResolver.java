package dev.reprise.gateway.service;

import dev.reprise.events.Identifiers;
import dev.reprise.events.RepositoryUrl;
import dev.reprise.gateway.config.BuildsConfig;
import dev.reprise.gateway.service.RepositoryHosts.Destination;
import io.vertx.core.Context;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Resolves a branch, tag or HEAD to the commit it names right now ({@code git ls-remote}), so a
 * cache key never says "main" or "HEAD". A full 40-hex SHA is taken as it is. The repository is a
 * tenant's and may be hostile: its host is checked ({@link RepositoryHosts}) and git is contained
 * ({@link GitLsRemote}).
 */
@ApplicationScoped
public class RefResolver {

    private final RepositoryHosts hosts;
    private final GitLsRemote git;

    public RefResolver(BuildsConfig config, RepositoryHosts hosts) {
        this.hosts = hosts;
        this.git = GitLsRemote.from(config);
    }

    /** Blocks (DNS, then git up to its timeout): run it through {@link ResolutionSlots}, never on the event loop. */
    public String resolve(RepositoryUrl repository, String ref) {
        if (Identifiers.isCommitSha(ref)) {
            return ref;
        }
        if (Context.isOnEventLoopThread()) {
            throw new IllegalStateException("resolving a ref blocks; it must not run on the event loop");
        }
        Destination destination = hosts.destination(repository);
        List<String> lines = git.run(repository.original(), destination, List.of(ref, ref + "^{}"));
        Map<String, String> refs = new HashMap<>();
        for (String line : lines) {
            String[] parts = line.split("\t", 2);
            if (parts.length == 2 && Identifiers.isCommitSha(parts[0])) {
                refs.put(parts[1], parts[0]);
            }
        }
        for (String candidate : List.of(ref, "refs/heads/" + ref, "refs/tags/" + ref + "^{}", "refs/tags/" + ref)) {
            String sha = refs.get(candidate);
            if (sha != null) {
                return sha;
            }
        }
        throw new InvalidRequestException("ref", "'" + ref + "' is not a branch, tag or HEAD of the repository");
    }
}
