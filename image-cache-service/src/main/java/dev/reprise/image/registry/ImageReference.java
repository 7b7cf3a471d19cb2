package dev.reprise.image.registry;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An image reference split into registry host, repository and tag or digest:
 * {@code 127.0.0.1:5000/reprise/base:bookworm}, {@code host/repo@sha256:…}. A reference without a
 * registry host (e.g. {@code debian:bookworm}) names Docker Hub.
 */
public record ImageReference(String registry, String repository, String tag, String digest) {

    private static final Pattern REFERENCE = Pattern.compile(
            "(?:(?<host>[a-zA-Z0-9.-]+(?::[0-9]+)?)/)?(?<repo>[a-z0-9]+(?:[._-][a-z0-9]+)*(?:/[a-z0-9]+(?:[._-][a-z0-9]+)*)*)"
                    + "(?::(?<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?(?:@(?<digest>sha256:[0-9a-f]{64}))?");

    public static ImageReference parse(String text) {
        Matcher m = text == null ? null : REFERENCE.matcher(text.strip());
        if (m == null || !m.matches()) {
            throw new IllegalArgumentException("'" + text + "' is not an image reference (e.g. registry.example:5000/team/base:bookworm)");
        }
        String host = m.group("host");
        String repository = m.group("repo");
        if (host != null && host.contains(":")) {
            String port = host.substring(host.indexOf(':') + 1);
            if (port.length() > 5 || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65535) {
                throw new IllegalArgumentException("'" + text + "' names registry port " + port + "; a port is 1 to 65535");
            }
        }
        if (host != null && !host.contains(".") && !host.contains(":") && !host.equals("localhost")) {
            // "team/base": a Docker Hub namespace, not a host.
            if (!host.matches("[a-z0-9]+(?:[._-][a-z0-9]+)*")) {
                throw new IllegalArgumentException("'" + text + "' is not an image reference (repository names are lowercase)");
            }
            repository = host + "/" + repository;
            host = null;
        }
        if (host == null) {
            host = "registry-1.docker.io";
            if (!repository.contains("/")) {
                repository = "library/" + repository;
            }
        }
        String tag = m.group("tag");
        String digest = m.group("digest");
        return new ImageReference(host, repository, tag == null && digest == null ? "latest" : tag, digest);
    }

    /** The tag, or the digest when pinned by one: what a manifest request names. */
    public String manifestReference() {
        return digest != null ? digest : tag;
    }

    /** host/repository, the name without tag or digest. */
    public String name() {
        return registry + "/" + repository;
    }

    public String withDigest(String pinned) {
        return name() + "@" + pinned;
    }

    @Override
    public String toString() {
        return name() + (tag != null ? ":" + tag : "") + (digest != null ? "@" + digest : "");
    }
}
