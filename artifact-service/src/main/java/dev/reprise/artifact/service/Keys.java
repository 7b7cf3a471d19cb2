package dev.reprise.artifact.service;

import dev.reprise.artifact.http.ArtifactException;
import java.util.regex.Pattern;

/** What a key may look like in each protocol; anything else is a 400 that says what to fix. */
public final class Keys {

    /** The digest of empty content: it always exists and needs no upload. */
    public static final String EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    public static final int MAX_KEY_LENGTH = 512;

    private static final Pattern HEX64 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern SEGMENT = Pattern.compile("[A-Za-z0-9._-]+");
    private static final Pattern TOKEN = Pattern.compile("[A-Za-z0-9._-]{1,128}");

    private Keys() {
    }

    /** A lowercase hex sha256 (Bazel's digests). */
    public static String sha256(String value, String what) {
        if (value == null || !HEX64.matcher(value).matches()) {
            throw ArtifactException.badRequest(what + " must be a sha256: 64 lowercase hex characters");
        }
        return value;
    }

    /** A path-like key (ccache, Gradle): segments of letters, digits, '.', '_' or '-', never '.' or '..'. */
    public static String pathKey(String value, String what) {
        if (value == null || value.isEmpty() || value.length() > MAX_KEY_LENGTH) {
            throw ArtifactException.badRequest(what + " must be 1 to " + MAX_KEY_LENGTH + " characters");
        }
        for (String segment : value.split("/", -1)) {
            if (segment.equals(".") || segment.equals("..")) {
                throw ArtifactException.badRequest(what + " must not contain '.' or '..' segments");
            }
            if (!SEGMENT.matcher(segment).matches()) {
                throw ArtifactException.badRequest(what + " may only hold letters, digits, '.', '_', '-' and '/' between non-empty segments");
            }
        }
        return value;
    }

    /** A free-form cache key (actions/cache): printable ASCII without commas, at most 512 characters. */
    public static String cacheKey(String value, String what) {
        if (value == null || value.isEmpty() || value.length() > MAX_KEY_LENGTH) {
            throw ArtifactException.badRequest(what + " must be 1 to " + MAX_KEY_LENGTH + " characters");
        }
        for (int i = 0; i < value.length(); i++) {
            char c = value.charAt(i);
            if (c < 0x20 || c > 0x7e) {
                throw ArtifactException.badRequest(what + " must be printable ASCII (found character code " + (int) c + " at " + i + ")");
            }
            if (c == ',') {
                throw ArtifactException.badRequest(what + " must not contain ','");
            }
        }
        return value;
    }

    /** A short name: team slugs, versions, branches' safe parts. */
    public static String token(String value, String what) {
        if (value == null || !TOKEN.matcher(value).matches() || value.chars().allMatch(c -> c == '.')) {
            throw ArtifactException.badRequest(what + " must be 1 to 128 letters, digits, '.', '_' or '-' (not only dots)");
        }
        return value;
    }

    /** A git branch name as git check-ref-format would accept it (simplified), at most 255 characters. */
    public static String branch(String value) {
        if (value == null || value.isEmpty()) {
            return null;
        }
        if (value.length() > 255 || value.contains("..") || value.startsWith("/") || value.endsWith("/")
                || value.endsWith(".lock") || !value.chars().allMatch(c -> c > 0x20 && c < 0x7f && "~^:?*[\\".indexOf(c) < 0)) {
            throw ArtifactException.badRequest("branch '" + value.replaceAll("[^\\x21-\\x7e]", "?") + "' is not a valid git branch name");
        }
        return value;
    }
}
