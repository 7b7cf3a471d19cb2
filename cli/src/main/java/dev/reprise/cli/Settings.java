package dev.reprise.cli;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reprise.taskcache.RestoreLimits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code .reprise.json}, found in the working directory or the nearest parent; flags override it.
 * Unknown fields are refused so a typo does not silently fall back to a default.
 * {@code restoreMaxSize} and {@code restoreMaxEntries} cap what one cache entry may write when it
 * is downloaded or restored (an entry from elsewhere is refused past them, as a zip bomb would be).
 */
@JsonIgnoreProperties(ignoreUnknown = false)
public record Settings(String cacheDir, String maxSize, String maxAge, Boolean verifyOnRead, List<String> exclude, String remoteUrl,
        String restoreMaxSize, Long restoreMaxEntries) {

    public static final String FILE = ".reprise.json";
    static final Settings DEFAULTS = new Settings(null, "10GB", "30d", true, List.of(".git", "node_modules", ".reprise-cache"), null,
            "10GB", RestoreLimits.DEFAULTS.maxEntries());
    static final String FIELDS = "cacheDir, maxSize, maxAge, verifyOnRead, exclude, remoteUrl, restoreMaxSize, restoreMaxEntries";
    private static final ObjectMapper JSON = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES);
    private static final Pattern SIZE = Pattern.compile("(\\d+)\\s*(B|KB|MB|GB|TB)?", Pattern.CASE_INSENSITIVE);
    private static final Pattern AGE = Pattern.compile("(\\d+)\\s*(s|m|h|d)", Pattern.CASE_INSENSITIVE);

    /** The settings file nearest to {@code dir} merged over the defaults. */
    static Settings load(Path dir) throws IOException {
        for (Path d = dir.toAbsolutePath(); d != null; d = d.getParent()) {
            Path file = d.resolve(FILE);
            if (Files.isRegularFile(file)) {
                Settings read;
                try {
                    read = JSON.readValue(file.toFile(), Settings.class);
                } catch (IOException e) {
                    throw new IOException(file + " is not valid: " + (e instanceof com.fasterxml.jackson.core.JsonProcessingException j ? j.getOriginalMessage() : e.getMessage())
                            + " (fields: " + FIELDS + ")", e);
                }
                return read.over(DEFAULTS);
            }
        }
        return DEFAULTS;
    }

    Settings over(Settings base) {
        return new Settings(cacheDir != null ? cacheDir : base.cacheDir, maxSize != null ? maxSize : base.maxSize,
                maxAge != null ? maxAge : base.maxAge, verifyOnRead != null ? verifyOnRead : base.verifyOnRead,
                exclude != null ? exclude : base.exclude, remoteUrl != null ? remoteUrl : base.remoteUrl,
                restoreMaxSize != null ? restoreMaxSize : base.restoreMaxSize,
                restoreMaxEntries != null ? restoreMaxEntries : base.restoreMaxEntries);
    }

    /** What one cache entry may write when restored. */
    RestoreLimits restoreLimits() {
        return new RestoreLimits(parseSize(restoreMaxSize), restoreMaxEntries);
    }

    /** The cache directory: the setting, else $REPRISE_CACHE_DIR, else $XDG_CACHE_HOME/reprise/tasks, else ~/.cache/reprise/tasks. */
    Path cacheDirectory(Path workspace, Map<String, String> env) {
        if (cacheDir != null) {
            return workspace.resolve(cacheDir.replaceFirst("^~", System.getProperty("user.home")));
        }
        if (env.get("REPRISE_CACHE_DIR") != null) {
            return Path.of(env.get("REPRISE_CACHE_DIR"));
        }
        String xdg = env.get("XDG_CACHE_HOME");
        return (xdg != null ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache")).resolve("reprise/tasks");
    }

    Optional<String> remote(Map<String, String> env) {
        return Optional.ofNullable(env.get("REPRISE_REMOTE_URL")).or(() -> Optional.ofNullable(remoteUrl));
    }

    /** "10GB", "512 MB", "100" (bytes) → bytes. */
    static long parseSize(String text) {
        Matcher m = SIZE.matcher(text.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("size '" + text + "' is not like 10GB, 512MB or 4096");
        }
        long n = Long.parseLong(m.group(1));
        String unit = m.group(2) == null ? "B" : m.group(2).toUpperCase(Locale.ROOT);
        return switch (unit) {
            case "KB" -> n << 10;
            case "MB" -> n << 20;
            case "GB" -> n << 30;
            case "TB" -> n << 40;
            default -> n;
        };
    }

    /** "30d", "12h", "15m", "90s" → duration. */
    static Duration parseAge(String text) {
        Matcher m = AGE.matcher(text.strip());
        if (!m.matches()) {
            throw new IllegalArgumentException("age '" + text + "' is not like 30d, 12h, 15m or 90s");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2).toLowerCase(Locale.ROOT)) {
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }
}
