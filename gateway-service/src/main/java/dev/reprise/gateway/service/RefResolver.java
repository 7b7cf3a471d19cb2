package dev.reprise.gateway.service;

import dev.reprise.events.RepositoryUrl;
import dev.reprise.events.Identifiers;
import dev.reprise.gateway.config.BuildsConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Resolves a branch, tag or HEAD to the commit it names right now ({@code git ls-remote}), so a
 * cache key never says "main" or "HEAD". A full 40-hex SHA is taken as it is.
 */
@ApplicationScoped
public class RefResolver {

    private final BuildsConfig config;

    public RefResolver(BuildsConfig config) {
        this.config = config;
    }

    /** Blocks (runs git); call from a worker thread. */
    public String resolve(RepositoryUrl repository, String ref) {
        if (Identifiers.isCommitSha(ref)) {
            return ref;
        }
        List<String> lines = lsRemote(repository.original(), ref);
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

    private List<String> lsRemote(String url, String ref) {
        ProcessBuilder builder = new ProcessBuilder("git", "ls-remote", "--", url, ref, ref + "^{}")
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        Map<String, String> env = builder.environment();
        env.keySet().removeIf(name -> name.startsWith("GIT_"));
        env.put("GIT_TERMINAL_PROMPT", "0");
        env.put("GIT_ALLOW_PROTOCOL", "https:ssh:file");
        env.put("GIT_SSH_COMMAND", "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new");
        try {
            Process process = builder.start();
            // Output is a few lines per matching ref; read it fully, then wait.
            var stdout = process.getInputStream();
            var stderr = process.getErrorStream();
            var out = new String[1];
            Thread reader = new Thread(() -> {
                try {
                    out[0] = new String(stdout.readAllBytes(), StandardCharsets.UTF_8);
                } catch (IOException e) {
                    out[0] = "";
                }
            });
            reader.start();
            if (!process.waitFor(config.refResolutionTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                process.descendants().forEach(ProcessHandle::destroyForcibly);
                process.destroyForcibly();
                throw new InvalidRequestException("repository", "did not answer within "
                        + config.refResolutionTimeout().toSeconds() + " s");
            }
            reader.join(5000);
            String error = new String(stderr.readAllBytes(), StandardCharsets.UTF_8).strip();
            if (process.exitValue() != 0) {
                String first = error.lines().filter(l -> !l.isBlank()).findFirst().orElse("git exited with " + process.exitValue());
                throw new InvalidRequestException("repository", "could not be read: " + first);
            }
            return new ArrayList<>(out[0] == null ? List.of() : out[0].lines().toList());
        } catch (IOException e) {
            throw new IllegalStateException("git is not installed on the gateway: " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while resolving " + ref, e);
        }
    }
}
