package dev.reprise.taskcache;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import java.util.List;

/**
 * One cache entry: what ran, how it ended, the outputs it left (regular files by content hash,
 * symlinks by target, directories so empty ones come back too) and its recorded terminal output.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Manifest(int v, String key, List<String> command, int exitCode, long durationMs, String createdAt,
        List<Output> outputs, String logSha256, long logBytes) {

    /** One output path. {@code type}: file, dir or symlink; {@code mode} as {@code rwxr-xr-x}. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Output(String path, String type, String mode, long size, String sha256, String target) {

        public static Output file(String path, String mode, long size, String sha256) {
            return new Output(path, "file", mode, size, sha256, null);
        }

        public static Output dir(String path, String mode) {
            return new Output(path, "dir", mode, 0, null, null);
        }

        public static Output symlink(String path, String target) {
            return new Output(path, "symlink", null, 0, null, target);
        }
    }
}
