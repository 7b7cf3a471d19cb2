package dev.reprise.events;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Set;

/**
 * A repository URL a build may use: https, ssh or file, without embedded credentials. {@link
 * #normalized()} is the form used in cache keys and shown back to users: scheme and host in lower
 * case, default port, user, trailing slashes and a {@code .git} suffix removed, so every spelling
 * of one repository keys the same. Shared by every service that names repositories (the gateway
 * keys and filters by it, replay-service indexes recordings by it).
 */
public record RepositoryUrl(String original, String normalized) {

    public static final int MAX_LENGTH = 2048;
    private static final Set<String> SCHEMES = Set.of("https", "ssh", "file");

    /** @throws IllegalArgumentException saying what to fix (never echoing credentials) */
    public static RepositoryUrl parse(String value) {
        if (value == null || value.isBlank()) {
            throw invalid("is required, e.g. https://github.com/org/app.git");
        }
        if (value.length() > MAX_LENGTH) {
            throw invalid("is longer than " + MAX_LENGTH + " characters");
        }
        if (value.chars().anyMatch(c -> c <= ' ' || c == 0x7f)) {
            throw invalid("must not contain spaces or control characters");
        }
        URI uri;
        try {
            uri = new URI(value);
        } catch (URISyntaxException e) {
            throw invalid("is not a valid URL (" + e.getReason() + "); use https://, ssh:// or file://");
        }
        String scheme = uri.getScheme() == null ? null : uri.getScheme().toLowerCase(Locale.ROOT);
        if (scheme == null || !SCHEMES.contains(scheme)) {
            throw invalid("must use https://, ssh:// or file:// (got " + (scheme == null ? "no scheme" : scheme + "://") + ")");
        }
        String userInfo = uri.getRawUserInfo();
        if (userInfo != null && (!"ssh".equals(scheme) || userInfo.contains(":"))) {
            throw invalid("must not embed credentials; give the runners access instead (deploy keys, credential helper)");
        }
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        if ("file".equals(scheme)) {
            if (uri.getHost() != null && !uri.getHost().isEmpty() || !path.startsWith("/")) {
                throw invalid("file URLs must be absolute: file:///path/to/repo");
            }
            return new RepositoryUrl(value, "file://" + trimPath(path));
        }
        String host = uri.getHost();
        if (host == null || host.isEmpty()) {
            throw invalid("has no host");
        }
        if (uri.getRawQuery() != null || uri.getRawFragment() != null) {
            throw invalid("must not have a query or fragment");
        }
        int port = uri.getPort();
        boolean defaultPort = port == -1 || "https".equals(scheme) && port == 443 || "ssh".equals(scheme) && port == 22;
        String normalized = scheme + "://" + host.toLowerCase(Locale.ROOT) + (defaultPort ? "" : ":" + port)
                + trimPath(path);
        return new RepositoryUrl(value, normalized);
    }

    private static String trimPath(String path) {
        String trimmed = path;
        while (trimmed.endsWith("/")) {
            trimmed = trimmed.substring(0, trimmed.length() - 1);
        }
        if (trimmed.endsWith(".git")) {
            trimmed = trimmed.substring(0, trimmed.length() - 4);
        }
        return trimmed;
    }

    private static IllegalArgumentException invalid(String problem) {
        return new IllegalArgumentException(problem);
    }
}
