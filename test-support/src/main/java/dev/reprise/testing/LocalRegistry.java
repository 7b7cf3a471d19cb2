package dev.reprise.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;

/**
 * The local image store (registry + podman's Docker API, {@code deploy/local/infra.sh up images}) for suites that
 * build or run images. {@code ./reprise test} starts it behind the other stores, while the unit suites already run;
 * it marks that with {@code .reprise/run/images.starting}, and {@link #awaitBaseImage()} waits for as long as the
 * mark is there. Without the mark the image store is either up or not started, and the wait is one check.
 */
public final class LocalRegistry {

    public static final String REGISTRY = "127.0.0.1:5000";
    public static final String BASE = "reprise/base";
    public static final String BASE_TAG = "bookworm";
    private static final Duration LONGEST_START = Duration.ofMinutes(10);

    private LocalRegistry() {
    }

    /** Returns once the base image is in the registry; fails when it is not and nothing is starting it. */
    public static void awaitBaseImage() throws InterruptedException {
        Path starting = Path.of(System.getProperty("user.dir")).resolve("../.reprise/run/images.starting").normalize();
        long deadline = System.nanoTime() + LONGEST_START.toNanos();
        while (!baseImagePresent()) {
            if (!Files.exists(starting)) {
                throw new IllegalStateException("the base image " + REGISTRY + "/" + BASE + ":" + BASE_TAG
                        + " is not in the local registry: start the image store with deploy/local/infra.sh up images");
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the image store was still starting after " + LONGEST_START.toMinutes()
                        + " minutes (" + starting + " is there); see .reprise/logs/test-images.log");
            }
            Thread.sleep(1000);
        }
    }

    private static boolean baseImagePresent() {
        try {
            HttpResponse<Void> head = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
                            URI.create("http://" + REGISTRY + "/v2/" + BASE + "/manifests/" + BASE_TAG))
                    .method("HEAD", HttpRequest.BodyPublishers.noBody()).timeout(Duration.ofSeconds(5))
                    .header("Accept", "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json")
                    .build(), HttpResponse.BodyHandlers.discarding());
            return head.statusCode() == 200;
        } catch (java.io.IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }
}
