package dev.reprise.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * Write-behind's promise (issue 22), against the running stack: a save acknowledged while S3 is
 * away is served at once by the instance that took it, survives kill -9 of that instance, and is
 * stored (S3 and the index) once the instance is back and S3 answers again.
 */
@Isolated
class WriteBehindIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private static final int ARTIFACT = Services.PORTS.get("artifact");

    @Test
    void aSaveAcknowledgedWhileS3IsAwaySurvivesKillMinus9AndIsStoredAfterwards() throws Exception {
        String token = Services.token();
        Map<String, byte[]> acknowledged = new LinkedHashMap<>();
        Random random = new Random();
        expectSuccess(Services.script("deploy/local/infra.sh", "down", "s3"));
        try {
            for (int i = 0; i < 20; i++) {
                byte[] blob = new byte[1024 + random.nextInt(64 * 1024)];
                random.nextBytes(blob);
                String digest = sha256(blob);
                HttpResponse<String> put = HTTP.send(request(token, "/bazel/cas/" + digest).PUT(HttpRequest.BodyPublishers.ofByteArray(blob))
                        .build(), HttpResponse.BodyHandlers.ofString());
                assertThat(put.statusCode()).as("a save is acknowledged with S3 away: " + put.body()).isEqualTo(200);
                acknowledged.put(digest, blob);
                assertThat(get(token, digest)).as("served at once by the instance that took it").isEqualTo(blob);
            }
            assertThat(metric("reprise_artifact_staged_saves")).as("staged, waiting for S3").isGreaterThanOrEqualTo(20);

            long pid = Services.pid("artifact");
            expectSuccess(Services.run(Services.ROOT, Map.of(), Duration.ofSeconds(10), "kill", "-9", Long.toString(pid)));
            await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
        } finally {
            expectSuccess(Services.script("deploy/local/infra.sh", "up", "s3"));
        }
        expectSuccess(Services.script("deploy/local/services.sh", "up", "artifact"));

        for (Map.Entry<String, byte[]> blob : acknowledged.entrySet()) {
            assertThat(get(token, blob.getKey())).as("acknowledged before kill -9, served after the restart").isEqualTo(blob.getValue());
        }
        await().atMost(Duration.ofSeconds(60)).until(() -> metric("reprise_artifact_staged_saves") == 0);
        assertThat(metric("reprise_artifact_staged_dropped_total")).as("nothing dropped").isZero();
        for (String digest : acknowledged.keySet()) {
            // In the index (what every other instance reads), not only in this instance's staging directory.
            HttpResponse<String> entry = HTTP.send(request(token, "/api/v1/artifacts/entries?protocol=bazel-cas&key=" + digest).GET().build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(entry.statusCode()).as(entry.body()).isEqualTo(200);
            assertThat(entry.body()).contains(digest);
        }
    }

    private static byte[] get(String token, String digest) throws Exception {
        HttpResponse<byte[]> response = HTTP.send(request(token, "/bazel/cas/" + digest).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
        assertThat(response.statusCode()).as("GET " + digest).isEqualTo(200);
        return response.body();
    }

    private static HttpRequest.Builder request(String token, String path) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ARTIFACT + path)).timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + token);
    }

    /** A gauge or counter of artifact-service, from its management port. */
    private static double metric(String name) throws Exception {
        String text = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + Services.managementPort(ARTIFACT) + "/q/metrics"))
                .GET().build(), HttpResponse.BodyHandlers.ofString()).body();
        return text.lines().filter(l -> l.startsWith(name + " ")).mapToDouble(l -> Double.parseDouble(l.substring(name.length() + 1)))
                .findFirst().orElseThrow(() -> new AssertionError("no metric " + name));
    }

    private static void expectSuccess(Services.Run run) {
        assertThat(run.exitCode()).as(run.output()).isZero();
    }

    private static String sha256(byte[] bytes) throws Exception {
        return HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(bytes));
    }
}
