package dev.reprise.taskcache;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;

/**
 * The artifact service as a second level behind the local cache: an entry travels as a zip of
 * its directory, saved with the actions/cache-style API under key {@code task-<key>} (immutable:
 * a 409 means another machine saved it first). Every failure is reported and treated as a miss,
 * never as a failed build.
 */
public final class RemoteCache {

    static final String VERSION = "taskcache-v1";
    private static final ObjectMapper JSON = new ObjectMapper();

    private final URI base;
    private final String token;
    private final HttpClient http;
    private final Duration timeout;

    public RemoteCache(URI base, String token, Duration timeout) {
        this.base = URI.create(base.toString().endsWith("/") ? base.toString() : base + "/");
        this.token = token;
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
    }

    /** Downloads the key's entry into the local cache; empty on a miss or any failure (reported to {@code warnings}). */
    public Optional<Manifest> fetch(String key, LocalCache local, java.io.PrintStream warnings) {
        try {
            HttpResponse<String> lookup = http.send(request("api/v1/caches?key=" + encode("task-" + key) + "&version=" + VERSION)
                    .GET().build(), HttpResponse.BodyHandlers.ofString());
            if (lookup.statusCode() == 204 || lookup.statusCode() == 404) {
                return Optional.empty();
            }
            if (lookup.statusCode() != 200) {
                warnings.println("reprise: remote cache lookup answered " + lookup.statusCode() + "; running the task");
                return Optional.empty();
            }
            JsonNode hit = JSON.readTree(lookup.body());
            if (!("task-" + key).equals(hit.path("matchedKey").asText())) {
                return Optional.empty();
            }
            String archive = hit.path("archiveUrl").asText().replaceFirst("^/", "");
            HttpResponse<InputStream> download = http.send(request(archive).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
            if (download.statusCode() != 200) {
                download.body().close();
                return Optional.empty();
            }
            Path unpacked = local.newWorkDirectory();
            try (ZipInputStream zip = new ZipInputStream(download.body())) {
                for (ZipEntry entry; (entry = zip.getNextEntry()) != null; ) {
                    Path target = LocalCache.safeResolve(unpacked, entry.getName());
                    Files.createDirectories(target.getParent());
                    Files.copy(zip, target);
                }
            }
            Optional<Manifest> installed = local.install(key, unpacked);
            if (installed.isEmpty()) {
                warnings.println("reprise: the remote entry for " + key + " is damaged; running the task");
            }
            return installed;
        } catch (IOException e) {
            warnings.println("reprise: remote cache unavailable (" + e.getMessage() + "); running the task");
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** Uploads a local entry. @return true when the remote now has it (saved now, or already) */
    public boolean save(String key, LocalCache local, java.io.PrintStream warnings) {
        Path dir = local.entryDirectory(key);
        try {
            Path zipFile = Files.createTempFile(local.root().resolve("tmp"), "upload.", ".zip");
            try {
                try (OutputStream out = Files.newOutputStream(zipFile); ZipOutputStream zip = new ZipOutputStream(out);
                        Stream<Path> files = Files.walk(dir)) {
                    for (Path file : files.filter(Files::isRegularFile).sorted().toList()) {
                        zip.putNextEntry(new ZipEntry(Inputs.relative(dir, file)));
                        Files.copy(file, zip);
                        zip.closeEntry();
                    }
                }
                HttpResponse<String> put = http.send(request("api/v1/caches?key=" + encode("task-" + key) + "&version=" + VERSION)
                        .PUT(HttpRequest.BodyPublishers.ofFile(zipFile)).build(), HttpResponse.BodyHandlers.ofString());
                if (put.statusCode() == 201 || put.statusCode() == 409) {
                    return true;
                }
                warnings.println("reprise: remote cache refused the upload (" + put.statusCode() + "): " + put.body());
                return false;
            } finally {
                Files.deleteIfExists(zipFile);
            }
        } catch (IOException e) {
            warnings.println("reprise: could not upload to the remote cache (" + e.getMessage() + ")");
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(base.resolve(path)).timeout(timeout).header("Authorization", "Bearer " + token);
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
