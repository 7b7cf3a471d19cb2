package dev.reprise.events;

import java.util.regex.Pattern;

/**
 * The shapes of the identifiers events carry. Every service checks what it receives against
 * these before using it, e.g. a build id as a workspace directory name or a cache key in a URL.
 */
public final class Identifiers {

    /** A build id: letters, digits and dashes (the gateway issues UUIDs). */
    public static final Pattern BUILD_ID = Pattern.compile("[A-Za-z0-9-]{1,64}");
    /** A cache key: a sha256 in lowercase hex. */
    public static final Pattern CACHE_KEY = Pattern.compile("[0-9a-f]{64}");
    /** A git commit: a full sha1 in lowercase hex. */
    public static final Pattern COMMIT_SHA = Pattern.compile("[0-9a-f]{40}");

    private Identifiers() {
    }

    public static boolean isBuildId(String value) {
        return value != null && BUILD_ID.matcher(value).matches();
    }

    public static boolean isCacheKey(String value) {
        return value != null && CACHE_KEY.matcher(value).matches();
    }

    public static boolean isCommitSha(String value) {
        return value != null && COMMIT_SHA.matcher(value).matches();
    }
}
