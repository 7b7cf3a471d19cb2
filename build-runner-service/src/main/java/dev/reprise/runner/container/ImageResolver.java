package dev.reprise.runner.container;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reprise.runner.config.RunnerConfig;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * Finds the image a build runs in: its spec (the checkout's {@code .reprise/image.json}) sent to
 * the image-cache service; a hit is used at once, a miss is waited for (or, as configured, the
 * default image is used). The image is always pinned by digest.
 */
public final class ImageResolver {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The image to run in and how it was found: hit, built, default, bypassed. */
    public record Resolved(String image, String how) {
    }

    /** The spec or the image service refused the build; the message says what to fix. */
    public static final class ImageException extends Exception {
        public ImageException(String message) {
            super(message);
        }
    }

    private final RunnerConfig.Container config;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    ImageResolver(RunnerConfig.Container config) {
        this.config = config;
    }

    /**
     * @param bypass the build asked for no image cache (NO_CACHE): the default image, nothing resolved
     * @param progress lines for the build's output
     */
    public Resolved resolve(Path workspace, boolean bypass, Duration maxWait, Consumer<String> progress)
            throws ImageException, InterruptedException {
        Path spec = workspace.resolve(config.specFile());
        if (bypass) {
            progress.accept("image cache bypassed (NO_CACHE): running in " + config.defaultImage());
            return new Resolved(config.defaultImage(), "bypassed");
        }
        if (!Files.isRegularFile(spec)) {
            progress.accept("no " + config.specFile() + ": running in " + config.defaultImage());
            return new Resolved(config.defaultImage(), "default");
        }
        if (config.imageCacheUrl().isEmpty()) {
            progress.accept("no image-cache service configured: running in " + config.defaultImage());
            return new Resolved(config.defaultImage(), "default");
        }
        String body;
        try {
            body = Files.readString(spec);
        } catch (IOException e) {
            throw new ImageException("cannot read " + config.specFile() + ": " + e.getMessage());
        }
        try {
            JsonNode answer = send("POST", "api/v1/images/resolve", body);
            JsonNode image = answer.path("image");
            String result = answer.path("result").asText();
            switch (result) {
                case "hit" -> {
                    progress.accept("image cache hit: " + image.path("pinnedReference").asText());
                    return new Resolved(image.path("pinnedReference").asText(), "hit");
                }
                case "failed" -> throw new ImageException("the image for " + config.specFile() + " failed to build: "
                        + image.path("failureReason").asText() + " (fix the spec, or request again with NO_CACHE=1)");
                case "disabled" -> {
                    progress.accept("the image cache is disabled: running in " + config.defaultImage());
                    return new Resolved(config.defaultImage(), "default");
                }
                default -> {
                    String id = image.path("id").asText();
                    if (config.onMiss() == RunnerConfig.Container.OnMiss.BASE) {
                        progress.accept("image cache miss: " + id + " is building; running in " + config.defaultImage() + " meanwhile");
                        return new Resolved(config.defaultImage(), "default");
                    }
                    progress.accept("image cache miss: building image " + id + " for " + image.path("dependencies").size()
                            + " dependencies (progress: GET /api/v1/images/" + id + ")");
                    return awaitBuilt(id, maxWait, progress);
                }
            }
        } catch (IOException e) {
            // Seed 003: a cache that is away never fails a build; it runs in the base image, said and counted.
            io.micrometer.core.instrument.Metrics.counter("reprise.runner.image.fallbacks", "reason", "unavailable").increment();
            progress.accept("warning: the image-cache service at " + config.imageCacheUrl().get() + " could not be asked ("
                    + e.getMessage() + "): running in " + config.defaultImage() + " without the image's dependencies");
            return new Resolved(config.defaultImage(), "unavailable");
        }
    }

    private Resolved awaitBuilt(String id, Duration maxWait, Consumer<String> progress) throws IOException, ImageException, InterruptedException {
        long deadline = System.nanoTime() + Math.min(maxWait.toNanos(), config.waitTimeout().toNanos());
        long start = System.nanoTime();
        while (System.nanoTime() < deadline) {
            Thread.sleep(1000);
            JsonNode image = send("GET", "api/v1/images/" + id, null);
            switch (image.path("status").asText()) {
                case "COMPLETED" -> {
                    progress.accept("image built in " + (System.nanoTime() - start) / 1_000_000_000 + " s: " + image.path("pinnedReference").asText());
                    return new Resolved(image.path("pinnedReference").asText(), "built");
                }
                case "FAILED" -> throw new ImageException("the image for " + config.specFile() + " failed to build: "
                        + image.path("failureReason").asText());
                default -> {
                    // still building
                }
            }
        }
        throw new ImageException("image " + id + " was not built within " + config.waitTimeout() + "; request again later");
    }

    /** The configured token, else the token file's (read each time: the gateway may write it after the runner started). */
    private Optional<String> token() throws IOException {
        if (config.imageCacheToken().isPresent()) {
            return config.imageCacheToken().map(String::strip);
        }
        Optional<Path> file = config.imageCacheTokenFile();
        if (file.isPresent() && Files.isReadable(file.get())) {
            return Optional.of(Files.readString(file.get()).strip()).filter(t -> !t.isEmpty());
        }
        return Optional.empty();
    }

    private JsonNode send(String method, String path, String body) throws IOException, ImageException, InterruptedException {
        String base = config.imageCacheUrl().orElseThrow().toString();
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(base.endsWith("/") ? base + path : base + "/" + path))
                .timeout(Duration.ofSeconds(30)).header("Accept", "application/json");
        Optional<String> token = token();
        if (token.isPresent()) {
            request.header("Authorization", "Bearer " + token.get());
        }
        request = body == null ? request.GET()
                : request.header("Content-Type", "application/json").method(method, HttpRequest.BodyPublishers.ofString(body));
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() == 400) {
            throw new ImageException(config.specFile() + " is not a valid image spec: " + JSON.readTree(response.body()).path("detail").asText());
        }
        if (response.statusCode() == 403) {
            // A read-only token resolves only images that exist; the runner's must be read-write.
            throw new ImageException("the image-cache service refused: " + JSON.readTree(response.body()).path("detail").asText()
                    + " (give the runner a read-write IMAGE_CACHE_TOKEN, or request again with NO_CACHE=1)");
        }
        if (response.statusCode() >= 300) {
            throw new IOException("answered " + response.statusCode() + ": " + response.body());
        }
        return JSON.readTree(response.body());
    }
}
