package dev.reprise.s3;

import static dev.reprise.s3.BucketSettingsTest.config;
import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.reprise.s3.BucketSettingsReport.Outcome;
import dev.reprise.s3.BucketSettingsReport.Status;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * The bucket settings against the s3proxy deploy/local/infra.sh starts (S3_ENDPOINT, else
 * 127.0.0.1:9000), which implements none of them: each is reported unsupported and the service's
 * bucket still works. Skipped when nothing listens there, or when it refuses the credentials
 * (S3_ACCESS_KEY, S3_SECRET_KEY, else the secret deploy/local/env.sh generated).
 */
class LocalS3proxyBucketSettingsTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Test
    void s3proxyAnswersNotImplementedForEachSettingAndTheBucketStillWorks() throws Exception {
        URI endpoint = URI.create(Optional.ofNullable(System.getenv("S3_ENDPOINT")).orElse("http://127.0.0.1:9000"));
        assumeTrue(listening(endpoint), "no S3 endpoint at " + endpoint + " (deploy/local/infra.sh up s3 starts one)");
        String bucket = "reprise-settings-test-" + UUID.randomUUID().toString().substring(0, 8);
        try (S3AsyncClient s3 = StandInS3.client(endpoint, Optional.ofNullable(System.getenv("S3_ACCESS_KEY")).orElse("reprise"),
                secretKey())) {
            assumeTrue(acceptsCredentials(s3), "the S3 endpoint at " + endpoint + " refuses these credentials: set S3_ACCESS_KEY and"
                    + " S3_SECRET_KEY (. deploy/local/env.sh)");
            BucketConfig config = config(Map.of(
                    "reprise.s3.bucket", bucket,
                    "reprise.s3.versioning", "enabled",
                    "reprise.s3.encryption", "AES256",
                    "reprise.s3.lifecycle.transition-days", "30",
                    "reprise.s3.lifecycle.expiry-days", "365"));
            BucketSettingsApplier applier = new BucketSettingsApplier(s3, config);
            BucketGuard guard = new BucketGuard(s3, config, applier);
            try {
                guard.ensureBucket().await().atMost(WAIT);
                BucketSettingsReport report = applier.applyOnce().toCompletableFuture().get(30, TimeUnit.SECONDS);

                System.out.println("s3proxy at " + endpoint + " answered: " + report.outcomes());
                assertThat(report.outcomes().values()).as("expected deploy/local/infra.sh's s3proxy at %s", endpoint)
                        .extracting(Outcome::status).containsOnly(Status.UNSUPPORTED);
                s3.putObject(b -> b.bucket(bucket).key("blobs/probe"), AsyncRequestBody.fromString("ok"))
                        .get(30, TimeUnit.SECONDS);
                assertThat(s3.headObject(b -> b.bucket(bucket).key("blobs/probe")).get(30, TimeUnit.SECONDS).contentLength())
                        .as("the bucket serves as before").isEqualTo(2);
            } finally {
                s3.deleteObject(b -> b.bucket(bucket).key("blobs/probe")).exceptionally(e -> null).get(30, TimeUnit.SECONDS);
                s3.deleteBucket(b -> b.bucket(bucket)).exceptionally(e -> null).get(30, TimeUnit.SECONDS);
            }
        }
    }

    /** S3_SECRET_KEY, else the one deploy/local/env.sh generated for this checkout. */
    private static String secretKey() throws IOException {
        String fromEnv = System.getenv("S3_SECRET_KEY");
        if (fromEnv != null && !fromEnv.isEmpty()) {
            return fromEnv;
        }
        String home = System.getenv("REPRISE_HOME");
        Path file = (home != null ? Path.of(home) : Path.of("").toAbsolutePath().getParent().resolve(".reprise"))
                .resolve("secrets/s3-secret-key");
        return Files.isReadable(file) ? Files.readString(file).strip() : "reprise-secret";
    }

    private static boolean acceptsCredentials(S3AsyncClient s3) throws Exception {
        try {
            s3.listBuckets().get(30, TimeUnit.SECONDS);
            return true;
        } catch (ExecutionException e) {
            if (e.getCause() instanceof S3Exception refused && refused.statusCode() == 403) {
                return false;
            }
            throw e;
        }
    }

    private static boolean listening(URI endpoint) {
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress(endpoint.getHost(), endpoint.getPort() < 0 ? 80 : endpoint.getPort()), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }
}
