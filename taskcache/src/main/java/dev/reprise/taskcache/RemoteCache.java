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
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.Optional;
import java.util.regex.Pattern;
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
    /** The members of an entry's archive: what {@link LocalCache#store} writes, blobs named by their hash. */
    private static final Pattern ENTRY_FILE = Pattern.compile("manifest\\.json|manifest\\.sha256|log\\.bin|files/[0-9a-f]{64}");
    private static final ObjectMapper JSON = new ObjectMapper();

    /** The actions/cache-style door of artifact-service: tenants' paths caches and the task cache. */
    public static final String CACHES = "api/v1/caches";
    /** The dependency caches' door: the same API over the {@code deps} protocol (build runners'). */
    public static final String DEPENDENCIES = "api/v1/deps";

    private final URI base;
    private final String door;
    private final java.util.Map<String, String> headers;
    private final String token;
    private final HttpClient http;
    private final Duration timeout;

    public RemoteCache(URI base, String token, Duration timeout) {
        this(base, CACHES, token, timeout);
    }

    public RemoteCache(URI base, String door, String token, Duration timeout) {
        this(base, door, token, timeout, java.util.Map.of());
    }

    /**
     * @param door {@link #CACHES} or {@link #DEPENDENCIES}
     * @param headers sent with every request (a build's {@code X-Reprise-Repository}, say)
     */
    public RemoteCache(URI base, String door, String token, Duration timeout, java.util.Map<String, String> headers) {
        this.base = URI.create(base.toString().endsWith("/") ? base.toString() : base + "/");
        this.door = door;
        this.headers = java.util.Map.copyOf(headers);
        this.token = token;
        this.timeout = timeout;
        this.http = HttpClient.newBuilder().connectTimeout(timeout).build();
    }

    /** Downloads the key's entry into the local cache; empty on a miss or any failure (reported to {@code warnings}). */
    public Optional<Manifest> fetch(String key, LocalCache local, java.io.PrintStream warnings) {
        try {
            Optional<Hit> hit;
            try {
                hit = lookup("task-" + key, java.util.List.of(), VERSION, null);
            } catch (LookupRefused e) {
                warnings.println("reprise: remote cache lookup answered " + e.status + "; running the task");
                return Optional.empty();
            }
            if (hit.isEmpty() || !hit.get().exact()) {
                return Optional.empty();
            }
            String archive = hit.get().archiveUrl().replaceFirst("^/", "");
            HttpResponse<InputStream> download = http.send(request(archive).GET().build(), HttpResponse.BodyHandlers.ofInputStream());
            if (download.statusCode() != 200) {
                download.body().close();
                return Optional.empty();
            }
            Path unpacked = local.newWorkDirectory();
            try {
                try (ZipInputStream zip = new ZipInputStream(download.body())) {
                    unpack(zip, unpacked, local.limits().budget(key));
                }
                Optional<Manifest> installed = local.install(key, unpacked);
                if (installed.isEmpty()) {
                    warnings.println("reprise: the remote entry for " + key + " is damaged; running the task");
                }
                return installed;
            } finally {
                LocalCache.deleteTree(unpacked);
            }
        } catch (RefusedEntry e) {
            warnings.println("reprise: refusing the remote entry for " + key + ": " + e.getMessage() + "; running the task");
            return Optional.empty();
        } catch (IOException e) {
            warnings.println("reprise: remote cache unavailable (" + e.getMessage() + "); running the task");
            return Optional.empty();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /**
     * Unpacks a downloaded entry. The archive is another machine's and may be hostile: only the
     * names an entry has are accepted (no path of the archive's choosing is ever written), each
     * once, and every byte and entry counts against the limits as it is decompressed.
     */
    static void unpack(ZipInputStream zip, Path unpacked, RestoreLimits.Budget budget) throws IOException {
        Files.createDirectory(unpacked.resolve("files"));
        for (ZipEntry entry; (entry = zip.getNextEntry()) != null; ) {
            String name = entry.getName();
            if (!name.startsWith("manifest.") && !name.equals("log.bin")) {
                budget.addEntries(1); // the three fixed names can come once each
            }
            if (name.equals("files/")) {
                continue;
            }
            if (!ENTRY_FILE.matcher(name).matches()) {
                throw RefusedEntry.unsafe("the archive has an unexpected member '" + TreePaths.printable(name) + "'");
            }
            try (OutputStream out = Files.newOutputStream(unpacked.resolve(name), StandardOpenOption.CREATE_NEW)) {
                budget.copy(zip, out);
            } catch (FileAlreadyExistsException e) {
                throw RefusedEntry.unsafe("the archive has '" + TreePaths.printable(name) + "' twice");
            }
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
                    // Never through a symlink: whatever one points at is not the entry's to upload.
                    for (Path file : files.filter(f -> Files.isRegularFile(f, LinkOption.NOFOLLOW_LINKS)).sorted().toList()) {
                        zip.putNextEntry(new ZipEntry(Inputs.relative(dir, file)));
                        try (InputStream in = Files.newInputStream(file, LinkOption.NOFOLLOW_LINKS)) {
                            in.transferTo(zip);
                        }
                        zip.closeEntry();
                    }
                }
                HttpResponse<String> put = http.send(request(door + "?key=" + encode("task-" + key) + "&version=" + VERSION)
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

    /**
     * What a lookup found: the key it matched, where its archive is, the archive's digest and, where
     * the door answers it (dependency caches), where the entry came from ({@code provenance}: commit,
     * commitMessage, branch, buildId, toolchain, durationMs; a missing node otherwise).
     */
    public record Hit(String matchedKey, boolean exact, String archiveUrl, String digest, JsonNode provenance) {
    }

    /**
     * Looks a key up as actions/cache does: exactly, then as a prefix, then each restore key, in
     * {@code branch} then the default branch. Empty on a miss; an unexpected answer is an IOException.
     */
    public Optional<Hit> lookup(String key, java.util.List<String> restoreKeys, String version, String branch)
            throws IOException, InterruptedException {
        StringBuilder query = new StringBuilder(door).append("?key=").append(encode(key)).append("&version=").append(encode(version));
        if (!restoreKeys.isEmpty()) {
            query.append("&restoreKeys=").append(encode(String.join(",", restoreKeys)));
        }
        if (branch != null && !branch.isEmpty()) {
            query.append("&branch=").append(encode(branch));
        }
        HttpResponse<String> lookup = http.send(request(query.toString()).GET().build(), HttpResponse.BodyHandlers.ofString());
        if (lookup.statusCode() == 204 || lookup.statusCode() == 404) {
            return Optional.empty();
        }
        if (lookup.statusCode() != 200) {
            throw new LookupRefused(lookup.statusCode(), lookup.body());
        }
        JsonNode hit = JSON.readTree(lookup.body());
        String matched = hit.path("matchedKey").asText();
        return Optional.of(new Hit(matched, matched.equals(key), hit.path("archiveUrl").asText(), hit.path("digest").asText(null),
                hit.path("provenance")));
    }

    /** A lookup the service answered with something other than a hit or a miss. */
    static final class LookupRefused extends IOException {
        final int status;

        LookupRefused(int status, String body) {
            super("the cache lookup answered " + status + ": " + body);
            this.status = status;
        }
    }

    /** Downloads a hit's archive to {@code target}. */
    public void download(Hit hit, Path target) throws IOException, InterruptedException {
        HttpResponse<Path> download = http.send(request(hit.archiveUrl().replaceFirst("^/", "")).GET().build(),
                HttpResponse.BodyHandlers.ofFile(target));
        if (download.statusCode() != 200) {
            throw new IOException("downloading the archive answered " + download.statusCode());
        }
    }

    /**
     * Saves an archive under an immutable key, with provenance headers ({@code X-Reprise-*}).
     * @return true when saved now, false when the key and version already existed
     */
    public boolean upload(String key, String version, String branch, Path archive, java.util.Map<String, String> provenance)
            throws IOException, InterruptedException {
        return save(key, version, branch, archive, provenance).isPresent();
    }

    /**
     * {@link #upload}, with what the service answered: the saved entry's JSON (its {@code digest}
     * and {@code id}); empty when the key and version already existed.
     */
    public Optional<JsonNode> save(String key, String version, String branch, Path archive, java.util.Map<String, String> provenance)
            throws IOException, InterruptedException {
        String query = door + "?key=" + encode(key) + "&version=" + encode(version)
                + (branch == null || branch.isEmpty() ? "" : "&branch=" + encode(branch));
        HttpRequest.Builder builder = request(query).PUT(HttpRequest.BodyPublishers.ofFile(archive));
        provenance.forEach(builder::setHeader);
        HttpResponse<String> put = http.send(builder.build(), HttpResponse.BodyHandlers.ofString());
        if (put.statusCode() == 201) {
            return Optional.of(JSON.readTree(put.body()));
        }
        if (put.statusCode() == 409) {
            return Optional.empty();
        }
        throw new IOException("the cache refused the upload (" + put.statusCode() + "): " + put.body());
    }

    private HttpRequest.Builder request(String path) {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).timeout(timeout).header("Authorization", "Bearer " + token);
        headers.forEach(request::header);
        return request;
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }
}
