package dev.reprise.image.deps;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import dev.reprise.events.Dependency;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Pattern;

/**
 * A dependency set in canonical form, and its hash: sha256 of
 * {@code {"v":1,"base":"<base image digest>","builder":"<builder version>","dependencies":[{"type":…,"name":…,"version":…}…]}}
 * with dependencies sorted by type, then name; types and names normalised (case, whitespace, and
 * for pip PEP 503 separators); a version of "", "*" or "latest" is null (latest at build time);
 * exact duplicates collapse and the same package asked at two versions is refused.
 */
public record DependencySet(String baseImage, String baseDigest, String builderVersion, List<Dependency> dependencies) {

    /** The types a set may hold, in the order the builder installs them (one layer each). */
    public static final List<String> TYPES = List.of("system", "apt", "npm", "pip");
    private static final Pattern APT_NAME = Pattern.compile("[a-z0-9][a-z0-9+.-]*");
    private static final Pattern NPM_NAME = Pattern.compile("(@[a-z0-9][a-z0-9._~-]*/)?[a-z0-9][a-z0-9._~-]*");
    private static final Pattern PIP_NAME = Pattern.compile("[a-z0-9]([a-z0-9._-]*[a-z0-9])?");
    private static final Pattern VERSION = Pattern.compile("[A-Za-z0-9.+~:^<>=!*_|, -]{1,100}");
    private static final Pattern DIGEST = Pattern.compile("sha256:[0-9a-f]{64}");
    public static final int MAX_DEPENDENCIES = 500;

    public DependencySet {
        if (!DIGEST.matcher(baseDigest).matches()) {
            throw new IllegalArgumentException("base image digest must be sha256:<64 hex>, was: " + baseDigest);
        }
        dependencies = List.copyOf(dependencies);
    }

    /** Normalises, sorts and de-duplicates {@code asked}; refuses what no builder could install. */
    public static DependencySet of(String baseImage, String baseDigest, String builderVersion, List<Dependency> asked) {
        if (asked == null) {
            asked = List.of();
        }
        if (asked.size() > MAX_DEPENDENCIES) {
            throw new InvalidDependencyException("at most " + MAX_DEPENDENCIES + " dependencies per set, got " + asked.size());
        }
        Map<String, Dependency> unique = new TreeMap<>();
        for (Dependency raw : asked) {
            Dependency dependency = normalise(raw);
            String id = dependency.type() + " " + dependency.name();
            Dependency earlier = unique.putIfAbsent(id, dependency);
            if (earlier != null && !java.util.Objects.equals(earlier.version(), dependency.version())) {
                throw new InvalidDependencyException(dependency.type() + " package '" + dependency.name() + "' is listed at two versions ("
                        + earlier.version() + " and " + dependency.version() + "); keep one");
            }
        }
        List<Dependency> sorted = new ArrayList<>(unique.values());
        sorted.sort(Comparator.comparing((Dependency d) -> TYPES.indexOf(d.type())).thenComparing(Dependency::name));
        return new DependencySet(baseImage, baseDigest, builderVersion, sorted);
    }

    static Dependency normalise(Dependency raw) {
        if (raw == null || raw.type() == null || raw.name() == null) {
            throw new InvalidDependencyException("each dependency needs a type (" + String.join(", ", TYPES) + ") and a name");
        }
        String type = raw.type().strip().toLowerCase(Locale.ROOT);
        if (!TYPES.contains(type)) {
            throw new InvalidDependencyException("unknown dependency type '" + raw.type() + "': use one of " + String.join(", ", TYPES));
        }
        String name = raw.name().strip().toLowerCase(Locale.ROOT);
        Pattern valid = switch (type) {
            case "npm" -> NPM_NAME;
            case "pip" -> PIP_NAME;
            default -> APT_NAME;
        };
        if (type.equals("pip")) {
            name = name.replaceAll("[-_.]+", "-"); // PEP 503: Foo_Bar and foo.bar are one package
        }
        if (!valid.matcher(name).matches()) {
            throw new InvalidDependencyException("'" + raw.name() + "' is not a valid " + type + " package name");
        }
        String version = raw.version() == null ? null : raw.version().strip().replaceAll("\\s+", " ");
        if (version != null && (version.isEmpty() || version.equals("*") || version.equalsIgnoreCase("latest"))) {
            version = null;
        }
        if (version != null && !VERSION.matcher(version).matches()) {
            throw new InvalidDependencyException("version '" + raw.version() + "' of " + type + " package '" + name
                    + "' has characters a version cannot have");
        }
        if (version != null && (type.equals("apt") || type.equals("system")) && !version.matches("[A-Za-z0-9.+~:-]+")) {
            throw new InvalidDependencyException("apt installs exact versions only ('" + name + "=" + version + "' is a range)");
        }
        return new Dependency(type, name, version);
    }

    /** Dependencies of one type, in canonical order. */
    public List<Dependency> ofType(String type) {
        return dependencies.stream().filter(d -> d.type().equals(type)).toList();
    }

    /** The canonical JSON text that is hashed. */
    public String canonical() {
        StringBuilder json = new StringBuilder("{\"v\":1,\"base\":");
        string(json, baseDigest).append(",\"builder\":");
        string(json, builderVersion).append(",\"dependencies\":[");
        for (int i = 0; i < dependencies.size(); i++) {
            Dependency d = dependencies.get(i);
            json.append(i == 0 ? "{" : ",{").append("\"type\":");
            string(json, d.type()).append(",\"name\":");
            string(json, d.name()).append(",\"version\":");
            string(json, d.version()).append('}');
        }
        return json.append("]}").toString();
    }

    /** sha256 of {@link #canonical()}, 64 lowercase hex characters. */
    public String hash() {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(canonical().getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }

    private static StringBuilder string(StringBuilder json, String value) {
        if (value == null) {
            return json.append("null");
        }
        json.append('"');
        JsonStringEncoder.getInstance().quoteAsString(value, json);
        return json.append('"');
    }
}
