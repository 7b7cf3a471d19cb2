package dev.reprise.artifact;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.reprise.artifact.config.ArtifactConfig;
import dev.reprise.artifact.service.AccessRecorder;
import dev.reprise.artifact.service.IntegrityCheck;
import dev.reprise.artifact.service.Keys;
import dev.reprise.artifact.service.Lifecycle;
import dev.reprise.artifact.service.StagedSaves;
import dev.reprise.events.Topics;
import dev.reprise.s3.BucketGuard;
import dev.reprise.testing.KafkaTopicWatcher;
import dev.reprise.testing.RepriseInfrastructure;
import dev.reprise.testing.TestGateway;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.net.URL;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/**
 * The protocols, auth and lifecycle of the store against real PostgreSQL, Redis, Kafka and S3
 * (the gateway's whoami is stood in for by {@link TestGateway}).
 */
@QuarkusTest
@WithTestResource(value = RepriseInfrastructure.class, initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis,s3"))
@WithTestResource(TestGateway.class)
class ArtifactApiTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final Random RANDOM = new Random();

    @Inject
    Pool pool;
    @Inject
    S3AsyncClient s3;
    @Inject
    BucketGuard bucket;
    @Inject
    ArtifactConfig config;
    @Inject
    Lifecycle lifecycle;
    @Inject
    IntegrityCheck integrity;
    @Inject
    AccessRecorder accesses;
    @Inject
    StagedSaves staged;
    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;
    @TestHTTPResource("/")
    URL root;

    private final String tenant = TestGateway.newTenant();
    private final String writer = TestGateway.token(tenant, "read-write");

    // --- Bazel ------------------------------------------------------------------------------

    @Test
    void aBazelCasBlobIsStoredOnceVerifiedAndServedByteForByte() {
        byte[] blob = random(100_000);
        String digest = sha256(blob);
        given().auth().oauth2(writer).get("/bazel/cas/" + digest).then().statusCode(404);

        given().auth().oauth2(writer).body(blob).put("/bazel/cas/" + digest).then().statusCode(200);
        assertThat(given().auth().oauth2(writer).get("/bazel/cas/" + digest).then().statusCode(200)
                .header("Content-Length", "100000").extract().asByteArray()).isEqualTo(blob);
        given().auth().oauth2(writer).head("/bazel/cas/" + digest).then().statusCode(200).header("Content-Length", "100000");

        // The same content from another tenant is deduplicated: one blob, one object.
        String other = TestGateway.token(TestGateway.newTenant(), "read-write");
        given().auth().oauth2(other).body(blob).put("/bazel/cas/" + digest).then().statusCode(200);
        assertThat(count("SELECT count(*) FROM blobs WHERE digest = $1", digest)).isEqualTo(1);
        assertThat(objectExists(s3Key(digest))).isTrue();
    }

    @Test
    void aCasUploadWhoseBodyDoesNotMatchItsDigestLeavesNothingBehind() throws Exception {
        byte[] blob = random(50_000);
        String claimed = sha256(random(10));
        long spooled = spoolFiles();

        given().auth().oauth2(writer).body(blob).put("/bazel/cas/" + claimed)
                .then().statusCode(400).contentType("application/problem+json")
                .body("detail", containsString("digest mismatch")).body("detail", containsString(sha256(blob)));

        assertThat(count("SELECT count(*) FROM blobs WHERE digest = $1 OR digest = $2", sha256(blob), claimed)).isZero();
        assertThat(count("SELECT count(*) FROM cache_entries WHERE tenant_id = $1", tenant)).isZero();
        assertThat(objectsOf(sha256(blob))).isZero();
        assertThat(spoolFiles()).isLessThanOrEqualTo(spooled);
        given().auth().oauth2(writer).get("/bazel/cas/" + claimed).then().statusCode(404);
    }

    @Test
    void theEmptyBlobAlwaysExists() {
        given().auth().oauth2(writer).get("/bazel/cas/" + Keys.EMPTY_SHA256).then().statusCode(200).header("Content-Length", "0");
    }

    @Test
    void anActionResultIsKeyedByItsActionDigest() {
        byte[] result = random(300);
        String action = sha256(random(16));
        given().auth().oauth2(writer).body(result).put("/bazel/ac/" + action).then().statusCode(200);
        assertThat(given().auth().oauth2(writer).get("/bazel/ac/" + action).then().statusCode(200).extract().asByteArray()).isEqualTo(result);
        given().auth().oauth2(writer).get("/bazel/cas/" + action).then().statusCode(404);
    }

    @Test
    void badBazelPathsAreRefused() {
        given().auth().oauth2(writer).get("/bazel/cas/ABC").then().statusCode(400).body("detail", containsString("sha256"));
        given().auth().oauth2(writer).get("/bazel/xyz/" + Keys.EMPTY_SHA256).then().statusCode(404)
                .body("detail", containsString("/bazel/ac/{sha256}"));
    }

    @Test
    void savesAreServedAtOnceAndStoredBehindInOrder() throws Exception {
        // Write-behind: acknowledged when durable on this disk, served from there at once, stored in batches behind.
        java.util.List<byte[]> blobs = new java.util.ArrayList<>();
        for (int i = 0; i < 40; i++) {
            byte[] blob = random(4096);
            blobs.add(blob);
            given().auth().oauth2(writer).body(blob).put("/bazel/cas/" + sha256(blob)).then().statusCode(200);
            assertThat(given().auth().oauth2(writer).get("/bazel/cas/" + sha256(blob)).then().statusCode(200).extract().asByteArray())
                    .isEqualTo(blob);
        }
        // A key saved three times in a row keeps the last, whether the saves are staged or stored.
        byte[][] versions = {random(700), random(800), random(900)};
        for (byte[] version : versions) {
            given().auth().oauth2(writer).body(version).put("/ccache/rewritten").then().statusCode(200);
        }
        assertThat(given().auth().oauth2(writer).get("/ccache/rewritten").then().statusCode(200).extract().asByteArray())
                .isEqualTo(versions[2]);

        allStored();
        for (byte[] blob : blobs) {
            assertThat(count("SELECT count(*) FROM blobs WHERE digest = $1 AND deleted_at IS NULL", sha256(blob))).isEqualTo(1);
            String key = objectKey(sha256(blob));
            assertThat(key).as("small blobs stored together share a pack").startsWith("packs/");
            assertThat(objectExists(s3Key(sha256(blob)))).isTrue();
        }
        // Saves arriving together are stored together: fewer S3 objects than blobs.
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        java.util.List<java.util.concurrent.CompletableFuture<HttpResponse<String>>> puts = new java.util.ArrayList<>();
        java.util.List<String> together = new java.util.ArrayList<>();
        for (int i = 0; i < 32; i++) {
            byte[] blob = random(2048);
            together.add(sha256(blob));
            puts.add(client.sendAsync(HttpRequest.newBuilder(root.toURI().resolve("bazel/cas/" + sha256(blob)))
                    .header("Authorization", "Bearer " + writer).PUT(HttpRequest.BodyPublishers.ofByteArray(blob)).build(),
                    HttpResponse.BodyHandlers.ofString()));
        }
        for (var put : puts) {
            assertThat(put.get().statusCode()).isEqualTo(200);
        }
        allStored();
        assertThat(together.stream().map(this::s3Key).distinct().count()).as("packs for 32 saves at once").isLessThan(32);
        // Read back from S3 (ranged GET of the pack), not from the local copy.
        for (byte[] blob : blobs.subList(0, 5)) {
            Files.delete(localCopy(sha256(blob)));
            assertThat(given().auth().oauth2(writer).get("/bazel/cas/" + sha256(blob)).then().statusCode(200).extract().asByteArray())
                    .isEqualTo(blob);
        }
        assertThat(count("SELECT count(*) FROM cache_entries WHERE tenant_id = $1 AND protocol = 'bazel-cas'", tenant)).isEqualTo(72);
        assertThat(count("SELECT count(*) FROM cache_entries WHERE tenant_id = $1 AND cache_key = 'rewritten' AND deleted_at IS NULL"
                + " AND digest = $2", tenant, sha256(versions[2]))).isEqualTo(1);
        assertThat(given().auth().oauth2(writer).get("/ccache/rewritten").then().statusCode(200).extract().asByteArray())
                .isEqualTo(versions[2]);
        try (var left = Files.list(config.dataDir().resolve("staged"))) {
            assertThat(left.toList()).as("nothing stays staged once stored").isEmpty();
        }
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertThat(metrics).containsPattern("reprise_artifact_staged_delay_seconds_count(\\{[^}]*\\})? [1-9]")
                .contains("reprise_artifact_staged_saves 0.0");
    }

    @Test
    void hitsAreAnsweredFromMemoryAndWhatChangesHereTakesEffectAtOnce() {
        byte[] first = random(600);
        byte[] second = random(700);
        given().auth().oauth2(writer).body(first).put("/gradle/remembered").then().statusCode(200);
        allStored();
        double before = cacheHits();
        for (int i = 0; i < 3; i++) {
            assertThat(given().auth().oauth2(writer).get("/gradle/remembered").then().statusCode(200).extract().asByteArray()).isEqualTo(first);
        }
        assertThat(cacheHits() - before).as("the second and third GET are answered from memory").isGreaterThanOrEqualTo(2);

        // A new save of the key is what the next GET serves, while staged and once stored.
        given().auth().oauth2(writer).body(second).put("/gradle/remembered").then().statusCode(200);
        assertThat(given().auth().oauth2(writer).get("/gradle/remembered").then().statusCode(200).extract().asByteArray()).isEqualTo(second);
        allStored();
        assertThat(given().auth().oauth2(writer).get("/gradle/remembered").then().statusCode(200).extract().asByteArray()).isEqualTo(second);

        // An invalidation here is a miss at once, not after the memory's TTL.
        given().auth().oauth2(writer).queryParam("key", "remembered").delete("/api/v1/artifacts/entries").then().statusCode(200);
        given().auth().oauth2(writer).get("/gradle/remembered").then().statusCode(404);
        given().auth().oauth2(writer).head("/gradle/remembered").then().statusCode(404);
    }

    private double cacheHits() {
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        return metrics.lines().filter(l -> l.startsWith("cache_gets_total{") && l.contains("cache=\"artifact-hits\"")
                        && l.contains("result=\"hit\""))
                .mapToDouble(l -> Double.parseDouble(l.substring(l.lastIndexOf(' ') + 1))).sum();
    }

    @Test
    void aTenantOverItsQuotaGets507AndNothingIsStored() {
        byte[] first = random(5 << 20);
        byte[] second = random(5 << 20);
        given().auth().oauth2(writer).body(first).put("/bazel/cas/" + sha256(first)).then().statusCode(200);
        given().auth().oauth2(writer).body(second).put("/bazel/cas/" + sha256(second)).then().statusCode(507)
                .body("detail", containsString("store is full"));
        given().auth().oauth2(writer).get("/bazel/cas/" + sha256(second)).then().statusCode(404);
        assertThat(count("SELECT count(*) FROM blobs WHERE digest = $1", sha256(second))).isZero();
    }

    // --- Auth -------------------------------------------------------------------------------

    @Test
    void credentialsAreCheckedAndReadOnlyTokensCannotWrite() {
        byte[] blob = random(1000);
        String digest = sha256(blob);
        String reader = TestGateway.token(tenant, "read");

        given().body(blob).put("/bazel/cas/" + digest).then().statusCode(401)
                .header("WWW-Authenticate", containsString("Basic")).body("detail", containsString("missing credentials"));
        given().auth().oauth2("rpr_" + "x".repeat(43)).get("/bazel/cas/" + digest).then().statusCode(401)
                .body("detail", containsString("unknown or revoked"));
        given().header("Authorization", "Bearer nope").get("/bazel/cas/" + digest).then().statusCode(401)
                .body("detail", containsString("malformed token"));
        given().auth().oauth2(reader).body(blob).put("/bazel/cas/" + digest).then().statusCode(403)
                .body("detail", containsString("read-only"));
        assertThat(count("SELECT count(*) FROM blobs WHERE digest = $1", digest)).isZero();

        // Basic with the token as password, for clients that speak only Basic (Gradle, ccache, Bazel).
        given().auth().preemptive().basic("ci", writer).body(blob).put("/bazel/cas/" + digest).then().statusCode(200);
        given().auth().preemptive().basic("anyone", reader).get("/bazel/cas/" + digest).then().statusCode(200);
    }

    @Test
    void oneTenantNeverSeesAnothersEntries() {
        byte[] blob = random(2000);
        given().auth().oauth2(writer).body(blob).put("/ccache/ab/private-entry").then().statusCode(200);
        given().auth().oauth2(writer).body(blob).put("/bazel/cas/" + sha256(blob)).then().statusCode(200);

        String stranger = TestGateway.token(TestGateway.newTenant(), "read-write");
        given().auth().oauth2(stranger).get("/ccache/ab/private-entry").then().statusCode(404);
        given().auth().oauth2(stranger).head("/ccache/ab/private-entry").then().statusCode(404);
        given().auth().oauth2(stranger).get("/bazel/cas/" + sha256(blob)).then().statusCode(404);
        given().auth().oauth2(stranger).queryParam("key", "ab/private-entry").queryParam("protocol", "ccache")
                .get("/api/v1/artifacts/entries").then().statusCode(404);
    }

    @Test
    void anUploadThatStallsIsCutOffAndLeavesNothingBehind() throws Exception {
        long spooled = spoolFiles();
        int port = org.eclipse.microprofile.config.ConfigProvider.getConfig().getValue("quarkus.http.test-port", Integer.class);
        try (java.net.Socket socket = new java.net.Socket("127.0.0.1", port)) {
            socket.setSoTimeout(15_000);
            var out = socket.getOutputStream();
            out.write(("PUT /ccache/stalled HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + writer
                    + "\r\nContent-Length: 100000\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            out.write(random(1000));
            out.flush();
            // The server closes the silent connection (idle timeout, 2 s in tests): the read ends.
            long start = System.nanoTime();
            int read;
            try {
                read = socket.getInputStream().read();
            } catch (java.net.SocketException reset) {
                read = -1;
            }
            assertThat(read).isEqualTo(-1);
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
        }
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> spoolFiles() <= spooled);
        given().auth().oauth2(writer).get("/ccache/stalled").then().statusCode(404);
    }

    // --- Gradle and ccache ------------------------------------------------------------------

    @Test
    void gradleEntriesRoundTripAndTooLargeOnesGet413() {
        byte[] entry = random(20_000);
        String key = HexFormat.of().formatHex(random(16));
        given().auth().preemptive().basic("gradle", writer).get("/gradle/" + key).then().statusCode(404);
        given().auth().preemptive().basic("gradle", writer).body(entry).put("/gradle/" + key).then().statusCode(200);
        assertThat(given().auth().preemptive().basic("gradle", writer).get("/gradle/" + key).then().statusCode(200)
                .extract().asByteArray()).isEqualTo(entry);

        byte[] tooLarge = random((1 << 20) + 1);
        given().auth().preemptive().basic("gradle", writer).body(tooLarge).put("/gradle/" + key + "x").then().statusCode(413)
                .body("detail", containsString("the Gradle build cache accepts at most 1048576"));
        given().auth().preemptive().basic("gradle", writer).get("/gradle/" + key + "x").then().statusCode(404);
    }

    @Test
    void ccacheKeysInAnyLayoutRoundTrip() {
        byte[] entry = random(5000);
        for (String key : new String[] {"c5/" + "a".repeat(31), "flat" + UUID.randomUUID(), "ac/" + sha256(entry)}) {
            given().auth().preemptive().basic("", writer).head("/ccache/" + key).then().statusCode(404);
            given().auth().preemptive().basic("", writer).body(entry).put("/ccache/" + key).then().statusCode(200);
            given().auth().preemptive().basic("", writer).head("/ccache/" + key).then().statusCode(200);
            assertThat(given().auth().preemptive().basic("", writer).get("/ccache/" + key).then().statusCode(200)
                    .extract().asByteArray()).isEqualTo(entry);
        }
    }

    @Test
    void keysWithControlCharactersOrOddSegmentsAreRefused() {
        given().auth().oauth2(writer).urlEncodingEnabled(false).get("/ccache/a%00b").then().statusCode(400)
                .body("detail", containsString("letters, digits"));
        given().auth().oauth2(writer).urlEncodingEnabled(false).body("x").put("/ccache/a%5Cb").then().statusCode(400);
        given().auth().oauth2(writer).urlEncodingEnabled(false).body("x").put("/gradle/a%20b").then().statusCode(400);
        given().auth().oauth2(writer).queryParam("key", "bad\tkey").get("/api/v1/caches").then().statusCode(400)
                .body("detail", containsString("printable ASCII"));
    }

    // --- Turborepo --------------------------------------------------------------------------

    @Test
    void turboArtifactsKeepTheirDurationAndTagPerTeam() {
        byte[] artifact = random(4096);
        String hash = HexFormat.of().formatHex(random(8));
        given().auth().oauth2(writer).get("/v8/artifacts/status").then().statusCode(200).body("status", equalTo("enabled"));
        given().auth().oauth2(writer).queryParam("slug", "web").header("x-artifact-duration", "1234").header("x-artifact-tag", "c2lnbmVk")
                .body(artifact).put("/v8/artifacts/" + hash).then().statusCode(202);

        Response hit = given().auth().oauth2(writer).queryParam("slug", "web").get("/v8/artifacts/" + hash);
        assertThat(hit.statusCode()).isEqualTo(200);
        assertThat(hit.header("x-artifact-duration")).isEqualTo("1234");
        assertThat(hit.header("x-artifact-tag")).isEqualTo("c2lnbmVk");
        assertThat(hit.asByteArray()).isEqualTo(artifact);
        given().auth().oauth2(writer).queryParam("slug", "web").head("/v8/artifacts/" + hash).then().statusCode(200)
                .header("x-artifact-tag", "c2lnbmVk");
        given().auth().oauth2(writer).queryParam("slug", "other-team").get("/v8/artifacts/" + hash).then().statusCode(404);

        given().auth().oauth2(writer).queryParam("slug", "web").contentType("application/json")
                .body("{\"hashes\":[\"" + hash + "\",\"0000\"]}").post("/v8/artifacts")
                .then().statusCode(200).body(hash + ".size", equalTo(4096)).body(hash + ".taskDurationMs", equalTo(1234))
                .body(hash + ".tag", equalTo("c2lnbmVk")).body("'0000'", equalTo(null));
        given().auth().oauth2(writer).contentType("application/json")
                .body("[{\"sessionId\":\"s\",\"source\":\"REMOTE\",\"event\":\"HIT\",\"hash\":\"" + hash + "\",\"duration\":3}]")
                .post("/v8/artifacts/events").then().statusCode(200);
    }

    @Test
    void badTurboInputIsRefusedWithAMessage() {
        given().auth().oauth2(writer).contentType("application/json").body("{\"hashes\":[").post("/v8/artifacts")
                .then().statusCode(400).body("detail", containsString("not a JSON object"));
        given().auth().oauth2(writer).contentType("application/json").body("{\"hashes\":[1]}").post("/v8/artifacts")
                .then().statusCode(400).body("detail", containsString("string"));
        given().auth().oauth2(writer).contentType("application/json").body("{}").post("/v8/artifacts/events")
                .then().statusCode(400).body("detail", containsString("JSON array"));
        given().auth().oauth2(writer).header("x-artifact-duration", "soon").body("x").put("/v8/artifacts/abc")
                .then().statusCode(400).body("detail", containsString("x-artifact-duration"));
        given().auth().oauth2(writer).contentType("application/json").body("{\"hashes\":[\"" + "a".repeat(70_000) + "\"]}")
                .post("/v8/artifacts").then().statusCode(413);
    }

    // --- Maven build cache extension -------------------------------------------------------

    @Test
    void mavenBuildCacheFilesAreServedAndAMissIsAPlain404() {
        String dir = "v1.2/it.reprise/a/" + sha256(random(8)) + "/";
        byte[] buildInfo = random(3000);
        // Maven's resolver turns a problem+json body into an error it cannot classify: a miss must be plain.
        Response miss = given().auth().preemptive().basic("ci", writer).get("/maven/" + dir + "buildinfo.xml");
        assertThat(miss.statusCode()).isEqualTo(404);
        assertThat(miss.contentType()).isEqualTo("text/plain");

        given().auth().preemptive().basic("ci", writer).body(buildInfo).put("/maven/" + dir + "buildinfo.xml").then().statusCode(200);
        assertThat(given().auth().preemptive().basic("ci", writer).get("/maven/" + dir + "buildinfo.xml").then().statusCode(200)
                .extract().asByteArray()).isEqualTo(buildInfo);
        given().auth().oauth2(TestGateway.token(TestGateway.newTenant(), "read")).get("/maven/" + dir + "buildinfo.xml")
                .then().statusCode(404);
        Response traversal = given().auth().oauth2(writer).urlEncodingEnabled(false).get("/maven/a%2F..%2Fb");
        assertThat(traversal.statusCode()).isEqualTo(400);
        assertThat(traversal.contentType()).isEqualTo("text/plain");
    }

    // --- Nx ---------------------------------------------------------------------------------

    @Test
    void nxTaskOutputsAreStoredOnceServedToTheirTenantAndRefusedInText() {
        byte[] archive = random(10_000);
        String hash = String.valueOf(Math.abs(new java.util.Random().nextLong()));
        given().auth().oauth2(writer).get("/v1/cache/" + hash).then().statusCode(404);

        given().auth().oauth2(writer).body(archive).put("/v1/cache/" + hash).then().statusCode(200);
        assertThat(given().auth().oauth2(writer).get("/v1/cache/" + hash).then().statusCode(200).contentType("application/octet-stream")
                .extract().asByteArray()).isEqualTo(archive);
        given().auth().oauth2(writer).head("/v1/cache/" + hash).then().statusCode(200).header("Content-Length", "10000");

        // A hash names its outputs for good: a second PUT, even of other bytes, is refused and changes nothing.
        Response again = given().auth().oauth2(writer).body(random(10)).put("/v1/cache/" + hash);
        assertThat(again.statusCode()).isEqualTo(409);
        assertThat(again.contentType()).isEqualTo("text/plain");
        assertThat(again.asString()).contains("immutable");
        assertThat(given().auth().oauth2(writer).get("/v1/cache/" + hash).asByteArray()).isEqualTo(archive);

        // Nx reads errors only as text/plain (a JSON 401 is a "misconfigured remote cache endpoint" to it).
        Response anonymous = given().get("/v1/cache/" + hash);
        assertThat(anonymous.statusCode()).isEqualTo(401);
        assertThat(anonymous.contentType()).isEqualTo("text/plain");
        assertThat(anonymous.asString()).contains("Authorization: Bearer");
        Response readOnly = given().auth().oauth2(TestGateway.token(tenant, "read")).body(archive).put("/v1/cache/" + hash + "0");
        assertThat(readOnly.statusCode()).isEqualTo(403);
        assertThat(readOnly.contentType()).isEqualTo("text/plain");
        assertThat(readOnly.asString()).contains("read-only");
        Response badHash = given().auth().oauth2(writer).urlEncodingEnabled(false).get("/v1/cache/a%2Fb");
        assertThat(badHash.statusCode()).isEqualTo(400);
        assertThat(badHash.contentType()).isEqualTo("text/plain");
        assertThat(badHash.asString()).contains("letters, digits");

        String stranger = TestGateway.token(TestGateway.newTenant(), "read-write");
        given().auth().oauth2(stranger).get("/v1/cache/" + hash).then().statusCode(404);
    }

    // --- actions/cache-style restore and save -----------------------------------------------

    @Test
    void savesAreImmutableAndRestoreTriesKeyPrefixAndRestoreKeysWithinBranchThenDefault() {
        String prefix = "npm-" + UUID.randomUUID() + "-";
        byte[] onMain = random(3000);
        byte[] onFeature = random(3000);
        save(prefix + "lock1", "v1", "main", onMain, 201);
        save(prefix + "lock1", "v1", "main", random(10), 409);
        save(prefix + "lock2", "v1", "feature/x", onFeature, 201);

        // Exact key on the default branch.
        assertThat(restore(prefix + "lock1", null, "v1", "main").path("matchedKey").toString()).isEqualTo(prefix + "lock1");
        // The feature branch sees its own entry first for a prefix restore key ...
        Response fromFeature = restore(prefix + "lock9", prefix, "v1", "feature/x");
        assertThat(fromFeature.path("matchedKey").toString()).isEqualTo(prefix + "lock2");
        assertThat(fromFeature.<Boolean>path("exact")).isFalse();
        assertThat(archive(fromFeature)).isEqualTo(onFeature);
        // ... another branch falls back to the default branch's.
        Response fromOther = restore(prefix + "lock9", prefix, "v1", "feature/y");
        assertThat(fromOther.path("matchedKey").toString()).isEqualTo(prefix + "lock1");
        assertThat(archive(fromOther)).isEqualTo(onMain);
        // main never sees a feature branch's entries; another version sees nothing.
        given().auth().oauth2(writer).queryParam("key", prefix + "lock2").queryParam("version", "v1").get("/api/v1/caches")
                .then().statusCode(204);
        given().auth().oauth2(writer).queryParam("key", prefix + "lock1").queryParam("version", "v2").get("/api/v1/caches")
                .then().statusCode(204);
    }

    @Test
    void theMostRecentPrefixMatchWins() throws InterruptedException {
        String prefix = "gradle-" + UUID.randomUUID() + "-";
        save(prefix + "a", "", null, random(100), 201);
        Thread.sleep(5);
        byte[] newest = random(100);
        save(prefix + "b", "", null, newest, 201);
        Response hit = restore(prefix + "zzz", prefix, null, null);
        assertThat(hit.path("matchedKey").toString()).isEqualTo(prefix + "b");
        assertThat(archive(hit)).isEqualTo(newest);
    }

    // --- Integrity --------------------------------------------------------------------------

    @Test
    void aBlobCorruptedInS3BehindOurBackIsNeverServed() throws Exception {
        byte[] blob = random(30_000);
        String digest = sha256(blob);
        given().auth().oauth2(writer).body(blob).put("/bazel/cas/" + digest).then().statusCode(200);
        corruptInS3(digest);

        given().auth().oauth2(writer).get("/bazel/cas/" + digest).then().statusCode(404);
        assertThat(quarantineReason(digest)).contains("corrupt");
        given().auth().oauth2(writer).head("/bazel/cas/" + digest).then().statusCode(404);
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertThat(metrics).containsPattern("reprise_artifact_quarantined_total\\{reason=\"corrupt\"\\} [1-9]");

        // Uploading the content again heals it.
        given().auth().oauth2(writer).body(blob).put("/bazel/cas/" + digest).then().statusCode(200);
        assertThat(given().auth().oauth2(writer).get("/bazel/cas/" + digest).then().statusCode(200).extract().asByteArray()).isEqualTo(blob);
    }

    @Test
    void aLocalCopyOverwrittenOnDiskIsNeverServedAndTheBlobComesFromS3Again() throws Exception {
        // Small blobs are checked whole before a byte is sent: inline (30 kB), on a worker (200 kB).
        for (int size : new int[] {30_000, 200_000}) {
            byte[] blob = random(size);
            String digest = sha256(blob);
            given().auth().oauth2(writer).body(blob).put("/bazel/cas/" + digest).then().statusCode(200);
            Path copy = localCopy(digest);
            assertThat(copy).exists();

            for (byte[] garbage : new byte[][] {random(size), random(size / 2)}) {
                Files.write(copy, garbage);
                assertThat(given().auth().oauth2(writer).get("/bazel/cas/" + digest).then().statusCode(200)
                        .header("Content-Length", Integer.toString(size)).extract().asByteArray())
                        .as("the blob, from S3, never the garbage").isEqualTo(blob);
                assertThat(copy).as("the bad copy was replaced by the verified one").satisfiesAnyOf(
                        p -> assertThat(p).doesNotExist(), p -> assertThat(p).hasBinaryContent(blob));
            }
            assertThat(quarantineReason(digest)).as("S3 is not to blame").isEmpty();
        }
        String metrics = given().get("/q/metrics").then().statusCode(200).extract().asString();
        assertThat(metrics).containsPattern("reprise_artifact_local_copy_rejected_total\\{mismatch=\"digest\"\\} [1-9]")
                .containsPattern("reprise_artifact_local_copy_rejected_total\\{mismatch=\"size\"\\} [1-9]");
    }

    @Test
    void aLargeLocalCopyOverwrittenOnDiskNeverCompletesAResponse() throws Exception {
        // Larger blobs are hashed as they are sent: a changed copy of the right size breaks the transfer.
        byte[] blob = random(1_500_000);
        String digest = sha256(blob);
        given().auth().oauth2(writer).body(blob).put("/bazel/cas/" + digest).then().statusCode(200);
        Path copy = localCopy(digest);
        byte[] garbage = random(blob.length);
        Files.write(copy, garbage);

        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        HttpRequest get = HttpRequest.newBuilder(root.toURI().resolve("bazel/cas/" + digest)).header("Authorization", "Bearer " + writer).build();
        assertThatThrownBy(() -> client.send(get, HttpResponse.BodyHandlers.ofByteArray()))
                .as("the response is cut off before it completes").isInstanceOf(java.io.IOException.class);
        await().atMost(TIMEOUT).untilAsserted(() -> assertThat(copy).as("the bad copy is dropped").doesNotExist());
        assertThat(client.send(get, HttpResponse.BodyHandlers.ofByteArray()).body()).as("then the blob comes from S3").isEqualTo(blob);
        assertThat(copy).hasBinaryContent(blob);

        // A copy of the wrong size is caught before anything is sent: the blob comes from S3 at once.
        Files.write(copy, random(1000));
        assertThat(client.send(get, HttpResponse.BodyHandlers.ofByteArray()).body()).isEqualTo(blob);
        assertThat(quarantineReason(digest)).isEmpty();
    }

    @Test
    void theLocalDirectoriesAreTheServiceUsersAlone() throws Exception {
        for (Path dir : List.of(config.dataDir(), config.dataDir().resolve("blobs"), config.dataDir().resolve("spool"))) {
            assertThat(Files.getPosixFilePermissions(dir)).as(dir.toString()).isEqualTo(PosixFilePermissions.fromString("rwx------"));
        }
    }

    @Test
    void theIntegrityJobFindsCorruptAndMissingObjects() throws Exception {
        byte[] corrupt = random(10_000);
        byte[] missing = random(10_000);
        given().auth().oauth2(writer).body(corrupt).put("/bazel/cas/" + sha256(corrupt)).then().statusCode(200);
        allStored(); // stored apart: each in a pack of its own
        given().auth().oauth2(writer).body(missing).put("/bazel/cas/" + sha256(missing)).then().statusCode(200);
        corruptInS3(sha256(corrupt));
        String key = s3Key(sha256(missing));
        assertThat(key).isNotEqualTo(s3Key(sha256(corrupt)));
        s3.deleteObject(b -> b.bucket(bucket.bucket()).key(key)).get();

        for (int run = 0; run < 5 && (quarantineReason(sha256(corrupt)).isEmpty() || quarantineReason(sha256(missing)).isEmpty()); run++) {
            integrity.run(100_000).await().atMost(Duration.ofMinutes(2));
        }
        assertThat(quarantineReason(sha256(corrupt))).contains("corrupt");
        assertThat(quarantineReason(sha256(missing))).contains("missing");
        given().auth().oauth2(writer).get("/bazel/cas/" + sha256(missing)).then().statusCode(404);
    }

    // --- Lifecycle --------------------------------------------------------------------------

    @Test
    void invalidationHidesAtOnceAndTheCollectorFreesTheSpace() throws Exception {
        byte[] a = random(1000);
        byte[] b = random(1000);
        byte[] c = random(1000);
        String repo = "https://github.com/org/" + UUID.randomUUID();
        given().auth().oauth2(writer).header("X-Reprise-Repository", repo + ".git").body(a).put("/gradle/k-a").then().statusCode(200);
        given().auth().oauth2(writer).header("X-Reprise-Repository", repo).body(b).put("/gradle/k-b").then().statusCode(200);
        given().auth().oauth2(writer).body(c).put("/gradle/other-c").then().statusCode(200);

        String reader = TestGateway.token(tenant, "read");
        given().auth().oauth2(reader).queryParam("key", "k-a").delete("/api/v1/artifacts/entries").then().statusCode(403);
        given().auth().oauth2(writer).queryParam("key", "k-a").queryParam("repository", repo).delete("/api/v1/artifacts/entries")
                .then().statusCode(400).body("detail", containsString("exactly one"));

        given().auth().oauth2(writer).queryParam("repository", "HTTPS://GitHub.com/org/" + repo.substring(repo.lastIndexOf('/') + 1) + "/")
                .delete("/api/v1/artifacts/entries").then().statusCode(200).body("removed", equalTo(2));
        given().auth().oauth2(writer).get("/gradle/k-a").then().statusCode(404);
        given().auth().oauth2(writer).get("/gradle/k-b").then().statusCode(404);
        given().auth().oauth2(writer).queryParam("prefix", "other-").queryParam("protocol", "gradle")
                .delete("/api/v1/artifacts/entries").then().statusCode(200).body("removed", equalTo(1));
        given().auth().oauth2(writer).get("/gradle/other-c").then().statusCode(404);

        String objectOfA = s3Key(sha256(a));
        assertThat(objectExists(objectOfA)).isTrue();
        lifecycle.collect(Duration.ZERO).await().atMost(TIMEOUT);
        assertThat(objectExists(objectOfA)).as("no blob names it any more: deleted").isFalse();
        assertThat(count("SELECT count(*) FROM blobs WHERE digest = $1", sha256(a))).isZero();
        // Deleted rows stay for audit.
        assertThat(count("SELECT count(*) FROM cache_entries WHERE tenant_id = $1 AND deleted_reason = 'invalidated'", tenant)).isEqualTo(3);
    }

    @Test
    void expiredEntriesAreMissesAndAreRemoved() {
        byte[] entry = random(500);
        given().auth().oauth2(writer).body(entry).put("/ccache/expiring").then().statusCode(200);
        execute("UPDATE cache_entries SET expires_at = now() - interval '1 second' WHERE tenant_id = $1", tenant);
        given().auth().oauth2(writer).get("/ccache/expiring").then().statusCode(404);
        lifecycle.expire().await().atMost(TIMEOUT);
        assertThat(count("SELECT count(*) FROM cache_entries WHERE tenant_id = $1 AND deleted_reason = 'expired'", tenant)).isEqualTo(1);
    }

    @Test
    void pruningToABudgetRemovesLeastRecentlyUsedEntriesFirst() {
        byte[] a = random(100_000);
        byte[] b = random(100_000);
        byte[] c = random(100_000);
        for (var e : new Object[][] {{"lru-a", a, "2000-01-01"}, {"lru-b", b, "2000-01-03"}, {"lru-c", c, "2000-01-02"}}) {
            given().auth().oauth2(writer).body((byte[]) e[1]).put("/ccache/" + e[0]).then().statusCode(200);
        }
        accesses.flush().await().atMost(TIMEOUT);
        for (var e : new String[][] {{"lru-a", "2000-01-01"}, {"lru-b", "2000-01-03"}, {"lru-c", "2000-01-02"}}) {
            execute("UPDATE cache_entries SET last_access_at = '" + e[1] + "' WHERE tenant_id = $1 AND cache_key = '" + e[0] + "'", tenant);
        }
        long total = count("SELECT coalesce(sum(size_bytes), 0) FROM blobs WHERE deleted_at IS NULL");

        Lifecycle.Pruned pruned = lifecycle.prune(total - 150_000).await().atMost(TIMEOUT);

        assertThat(pruned.entries()).isEqualTo(2);
        assertThat(pruned.bytesFreed()).isEqualTo(200_000);
        given().auth().oauth2(writer).get("/ccache/lru-a").then().statusCode(404);
        given().auth().oauth2(writer).get("/ccache/lru-c").then().statusCode(404);
        assertThat(given().auth().oauth2(writer).get("/ccache/lru-b").then().statusCode(200).extract().asByteArray()).isEqualTo(b);
        assertThat(count("SELECT count(*) FROM blobs WHERE digest = $1", sha256(a))).as("its blob is freed").isZero();
    }

    @Test
    void aPackStaysWhileOneOfItsBlobsIsLiveAndGoesWithTheLast() throws Exception {
        byte[] kept = random(3000);
        byte[] dropped = random(3000);
        HttpClient client = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
        var first = client.sendAsync(HttpRequest.newBuilder(root.toURI().resolve("ccache/pack-kept")).header("Authorization", "Bearer " + writer)
                .PUT(HttpRequest.BodyPublishers.ofByteArray(kept)).build(), HttpResponse.BodyHandlers.ofString());
        var second = client.sendAsync(HttpRequest.newBuilder(root.toURI().resolve("ccache/pack-dropped")).header("Authorization", "Bearer " + writer)
                .PUT(HttpRequest.BodyPublishers.ofByteArray(dropped)).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(first.get().statusCode()).isEqualTo(200);
        assertThat(second.get().statusCode()).isEqualTo(200);
        allStored();
        String pack = s3Key(sha256(kept));
        org.junit.jupiter.api.Assumptions.assumeTrue(pack.equals(s3Key(sha256(dropped))), "both saves landed in one batch");

        given().auth().oauth2(writer).queryParam("key", "pack-dropped").delete("/api/v1/artifacts/entries").then().statusCode(200);
        lifecycle.collect(Duration.ZERO).await().atMost(TIMEOUT);
        assertThat(count("SELECT count(*) FROM blobs WHERE digest = $1", sha256(dropped))).as("the dropped blob is collected").isZero();
        assertThat(objectExists(pack)).as("the pack stays: another blob in it is live").isTrue();
        Files.deleteIfExists(localCopy(sha256(kept)));
        assertThat(given().auth().oauth2(writer).get("/ccache/pack-kept").then().statusCode(200).extract().asByteArray())
                .as("read back from the pack in S3").isEqualTo(kept);

        given().auth().oauth2(writer).queryParam("key", "pack-kept").delete("/api/v1/artifacts/entries").then().statusCode(200);
        lifecycle.collect(Duration.ZERO).await().atMost(TIMEOUT);
        assertThat(objectExists(pack)).as("the last blob of the pack is gone: so is the pack").isFalse();
    }

    @Test
    void provenanceIsKeptAndShownWithTheEntry() {
        byte[] entry = random(700);
        given().auth().oauth2(writer).header("X-Reprise-Repository", "https://github.com/org/app.git")
                .header("X-Reprise-Commit", "0123456789abcdef0123456789abcdef01234567").header("X-Reprise-Branch", "main")
                .header("X-Reprise-Build-Id", "b-1").header("X-Reprise-Duration-Ms", "4200")
                .header("X-Reprise-Toolchain", "{\"java\":\"17.0.15\"}").header("X-Reprise-Dependency-Digests", "{\"npm\":\"abc\"}")
                .body(entry).put("/gradle/with-provenance").then().statusCode(200);
        given().auth().oauth2(writer).queryParam("protocol", "gradle").queryParam("key", "with-provenance").get("/api/v1/artifacts/entries")
                .then().statusCode(200).body("digest", equalTo(sha256(entry))).body("sizeBytes", equalTo(700))
                .body("repository", equalTo("https://github.com/org/app"))
                .body("provenance.commit", equalTo("0123456789abcdef0123456789abcdef01234567"))
                .body("provenance.toolchain.java", equalTo("17.0.15")).body("provenance.durationMs", equalTo(4200))
                .body("provenance.dependencyDigests.npm", equalTo("abc"));
        given().auth().oauth2(writer).header("X-Reprise-Toolchain", "java 17").body(entry).put("/gradle/bad-provenance")
                .then().statusCode(400).body("detail", containsString("X-Reprise-Toolchain must be a JSON object"));
    }

    @Test
    void statsCountTheTenantsEntriesHitsAndMisses() {
        byte[] entry = random(1234);
        given().auth().oauth2(writer).body(entry).put("/ccache/stats-key").then().statusCode(200);
        given().auth().oauth2(writer).get("/ccache/stats-key").then().statusCode(200);
        given().auth().oauth2(writer).get("/ccache/stats-missing").then().statusCode(404);
        given().auth().oauth2(writer).get("/api/v1/artifacts/stats").then().statusCode(200)
                .body("tenant.entries", equalTo(1)).body("tenant.bytes", equalTo(1234))
                .body("tenant.hits", equalTo(1)).body("tenant.misses", equalTo(1)).body("store", equalTo(null))
                .body("tenant.removed.size()", equalTo(0));
        given().auth().oauth2(writer).queryParam("key", "stats-key").delete("/api/v1/artifacts/entries").then().statusCode(200);
        given().auth().oauth2(writer).get("/api/v1/artifacts/stats").then().statusCode(200)
                .body("tenant.entries", equalTo(0)).body("tenant.removed.invalidated", equalTo(1));
        // The store's totals are every tenant's business: an operator's, not a tenant admin's.
        String admin = TestGateway.token(tenant, "admin");
        given().auth().oauth2(admin).get("/api/v1/artifacts/stats").then().statusCode(200).body("tenant.entries", equalTo(0))
                .body("store", equalTo(null));
        String operator = TestGateway.token(TestGateway.newTenant(), "operator");
        given().auth().oauth2(operator).get("/api/v1/artifacts/stats").then().statusCode(200)
                .body("store.blobs", org.hamcrest.Matchers.greaterThan(0));
        given().auth().oauth2(writer).queryParam("maxBytes", 1).post("/api/v1/artifacts/prune").then().statusCode(403)
                .body("detail", containsString("needs a token with scope operator"));
    }

    @Test
    void savesAreAnnouncedOnKafka() {
        byte[] entry = random(321);
        try (KafkaTopicWatcher watcher = new KafkaTopicWatcher(bootstrap, Topics.ARTIFACT_EVENTS)) {
            given().auth().oauth2(writer).body(entry).put("/ccache/announced").then().statusCode(200);
            var records = watcher.awaitEach(java.util.List.of(
                    r -> r.value().contains("dev.reprise.artifact.blob-stored.v1") && r.value().contains(sha256(entry)),
                    r -> r.value().contains("dev.reprise.artifact.entry-saved.v1") && r.value().contains(tenant)
                            && r.value().contains("\"announced\"")), TIMEOUT);
            assertThat(records.get(1).key()).isEqualTo(tenant + "/ccache/announced");
        }
    }

    @Test
    void theProtocolRoutesAndTheAdminApiAreDescribedInOpenApi() {
        given().queryParam("format", "json").get("/q/openapi").then().statusCode(200)
                .body("paths.'/bazel/cas/{sha256}'.put.responses.'400'", org.hamcrest.Matchers.notNullValue())
                .body("paths.'/v8/artifacts/{hash}'.get", org.hamcrest.Matchers.notNullValue())
                .body("paths.'/api/v1/caches'.put.responses.'409'", org.hamcrest.Matchers.notNullValue())
                .body("paths.'/api/v1/artifacts/stats'.get", org.hamcrest.Matchers.notNullValue());
    }

    // --- helpers ----------------------------------------------------------------------------

    private void save(String key, String version, String branch, byte[] archive, int status) {
        var request = given().auth().oauth2(writer).queryParam("key", key).queryParam("version", version);
        if (branch != null) {
            request.queryParam("branch", branch);
        }
        request.body(archive).put("/api/v1/caches").then().statusCode(status);
    }

    private Response restore(String key, String restoreKeys, String version, String branch) {
        var request = given().auth().oauth2(writer).queryParam("key", key);
        if (restoreKeys != null) {
            request.queryParam("restoreKeys", restoreKeys);
        }
        if (version != null) {
            request.queryParam("version", version);
        }
        if (branch != null) {
            request.queryParam("branch", branch);
        }
        Response response = request.get("/api/v1/caches");
        assertThat(response.statusCode()).as(response.asString()).isEqualTo(200);
        return response;
    }

    private byte[] archive(Response restored) {
        return given().auth().oauth2(writer).get(restored.path("archiveUrl").toString()).then().statusCode(200).extract().asByteArray();
    }

    private void corruptInS3(String digest) throws Exception {
        allStored();
        String name = objectKey(digest);
        var packed = dev.reprise.artifact.store.BlobObjects.member(name);
        String key = packed.map(dev.reprise.artifact.store.BlobObjects.PackMember::pack).orElse(name);
        byte[] garbage = "not what was stored".getBytes(StandardCharsets.UTF_8);
        if (packed.isPresent()) {
            // Flip the blob's bytes inside its pack; its neighbours stay as they were.
            byte[] pack = s3.getObject(b -> b.bucket(bucket.bucket()).key(key), software.amazon.awssdk.core.async.AsyncResponseTransformer.toBytes())
                    .get().asByteArray();
            for (long i = packed.get().offset(); i < packed.get().offset() + packed.get().length(); i++) {
                pack[(int) i] ^= 0x5a;
            }
            garbage = pack;
        }
        byte[] body = garbage;
        s3.putObject(b -> b.bucket(bucket.bucket()).key(key), AsyncRequestBody.fromBytes(body)).get();
        Files.deleteIfExists(config.dataDir().resolve("blobs").resolve(digest.substring(0, 2)).resolve(digest));
    }

    private Path localCopy(String digest) {
        allStored();
        return config.dataDir().resolve("blobs").resolve(digest.substring(0, 2)).resolve(digest);
    }

    private String objectKey(String digest) {
        allStored();
        return pool.preparedQuery("SELECT object_key FROM blobs WHERE digest = $1").execute(Tuple.of(digest))
                .await().atMost(TIMEOUT).iterator().next().getString("object_key");
    }

    private Optional<String> quarantineReason(String digest) {
        var rows = pool.preparedQuery("SELECT quarantine_reason FROM blobs WHERE digest = $1").execute(Tuple.of(digest)).await().atMost(TIMEOUT);
        return rows.size() == 0 ? Optional.empty() : Optional.ofNullable(rows.iterator().next().getString("quarantine_reason"));
    }

    /** The S3 object holding a blob's bytes: its own, or its pack. */
    private String s3Key(String digest) {
        String name = objectKey(digest);
        return dev.reprise.artifact.store.BlobObjects.member(name).map(dev.reprise.artifact.store.BlobObjects.PackMember::pack).orElse(name);
    }

    private boolean objectExists(String key) {
        return !s3.listObjectsV2(b -> b.bucket(bucket.bucket()).prefix(key)).join().contents().isEmpty();
    }

    private long objectsOf(String digest) {
        allStored();
        return s3.listObjectsV2(b -> b.bucket(bucket.bucket()).prefix("blobs/" + digest.substring(0, 2) + "/" + digest)).join()
                .contents().size();
    }

    /**
     * Waits until every save acknowledged so far is in S3 and the index (write-behind): the
     * helpers that look at the stores behind the API call it first.
     */
    private void allStored() {
        staged.stored(null, TIMEOUT).await().atMost(TIMEOUT);
    }

    private long spoolFiles() throws Exception {
        try (var files = Files.list(config.dataDir().resolve("spool"))) {
            return files.count();
        }
    }

    private long count(String sql, Object... args) {
        allStored();
        Row row = pool.preparedQuery(sql).execute(Tuple.from(args)).await().atMost(TIMEOUT).iterator().next();
        return row.getLong(0);
    }

    private void execute(String sql, Object... args) {
        allStored();
        pool.preparedQuery(sql).execute(Tuple.from(args)).await().atMost(TIMEOUT);
    }

    private static byte[] random(int size) {
        byte[] bytes = new byte[size];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
