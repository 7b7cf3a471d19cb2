package dev.reprise.image.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reprise.image.config.ImageConfig;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Optional;

/**
 * The OCI distribution API (v2) of the registries images come from and go to: digests and sizes
 * are taken from the registry itself (a local store's idea of a digest can differ after a push),
 * and tags are removed by deleting their manifest.
 */
@ApplicationScoped
public class RegistryClient {

    static final String ACCEPT = String.join(", ",
            "application/vnd.oci.image.manifest.v1+json", "application/vnd.docker.distribution.manifest.v2+json",
            "application/vnd.oci.image.index.v1+json", "application/vnd.docker.distribution.manifest.list.v2+json");
    private static final Duration TIMEOUT = Duration.ofSeconds(15);

    /** A manifest as the registry serves it: its digest and the bytes it stands for (config plus layers, compressed). */
    public record Manifest(String digest, long sizeBytes) {
    }

    private final ImageConfig config;
    private final ObjectMapper json;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    public RegistryClient(ImageConfig config, ObjectMapper json) {
        this.config = config;
        this.json = json;
    }

    /** The manifest a reference names, or empty when the registry has no such tag or digest. */
    public Optional<Manifest> manifest(ImageReference reference) throws IOException {
        HttpResponse<byte[]> response = send(HttpRequest.newBuilder(url(reference, "manifests/" + reference.manifestReference()))
                .header("Accept", ACCEPT).GET());
        if (response.statusCode() == 404) {
            return Optional.empty();
        }
        if (response.statusCode() != 200) {
            throw new IOException("registry " + reference.registry() + " answered " + response.statusCode() + " for " + reference + ": "
                    + new String(response.body(), StandardCharsets.UTF_8).strip());
        }
        String digest = response.headers().firstValue("Docker-Content-Digest").orElseGet(() -> sha256(response.body()));
        JsonNode manifest = json.readTree(response.body());
        long size = manifest.path("config").path("size").asLong(0);
        for (JsonNode layer : manifest.path("layers")) {
            size += layer.path("size").asLong(0);
        }
        return Optional.of(new Manifest(digest, size));
    }

    /** Removes the manifest (and so every tag pointing at it); true when it was there. */
    public boolean delete(ImageReference reference, String digest) throws IOException {
        HttpResponse<byte[]> response = send(HttpRequest.newBuilder(url(reference, "manifests/" + digest)).DELETE());
        if (response.statusCode() == 202 || response.statusCode() == 200) {
            return true;
        }
        if (response.statusCode() == 404) {
            return false;
        }
        throw new IOException("registry " + reference.registry() + " refused to delete " + reference.name() + "@" + digest + " ("
                + response.statusCode() + "): " + new String(response.body(), StandardCharsets.UTF_8).strip());
    }

    private HttpResponse<byte[]> send(HttpRequest.Builder request) throws IOException {
        try {
            return http.send(request.timeout(TIMEOUT).build(), HttpResponse.BodyHandlers.ofByteArray());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while asking the registry", e);
        }
    }

    private URI url(ImageReference reference, String path) {
        String scheme = config.insecureRegistries().contains(reference.registry()) ? "http" : "https";
        return URI.create(scheme + "://" + reference.registry() + "/v2/" + reference.repository() + "/" + path);
    }

    private static String sha256(byte[] body) {
        try {
            return "sha256:" + HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(body));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
