package dev.reprise.image;

import dev.reprise.testing.LocalRegistry;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;

import dev.reprise.events.Topics;
import dev.reprise.image.builder.DockerEngine;
import dev.reprise.testing.KafkaTopicWatcher;
import dev.reprise.testing.RepriseInfrastructure;
import dev.reprise.testing.TestGateway;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The image API against the real stores, a real OCI registry and a real Docker Engine API
 * (podman's, started by deploy/local/infra.sh): images are really built, pushed, pulled and run.
 */
@QuarkusTest
@WithTestResource(value = RepriseInfrastructure.class, initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis"))
@WithTestResource(TestGateway.class)
class ImageApiTest {

    /** Image API calls carry a token (the gateway's whoami is stood in for by {@link TestGateway}). */
    @org.junit.jupiter.api.BeforeAll
    static void authorize() {
        TestGateway.authorizeRestAssured(TestGateway.token(TestGateway.newTenant(), "read-write"));
    }

    /** Prune and invalidate act on every tenant's images: an operator's token. */
    private static final String OPERATOR = "Bearer " + TestGateway.token(TestGateway.newTenant(), "operator");

    private static final String REGISTRY = "http://127.0.0.1:5000";
    private static final String APT_AND_NPM = """
            {"dependencies":[{"type":"apt","name":"hello"},{"type":"npm","name":"is-number","version":"7.0.0"}]}""";
    /** The same set: other order, other spelling. */
    private static final String APT_AND_NPM_REORDERED = """
            {"dependencies":[{"type":" NPM","name":"is-number ","version":" 7.0.0"},{"type":"apt","name":"Hello","version":"latest"}]}""";
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Inject
    DockerEngine engine;
    @Inject
    Pool pool;
    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @BeforeEach
    void engineAndRegistryAnswer() throws Exception {
        LocalRegistry.awaitBaseImage();
        assertThat(engine.reachable()).as("the Docker Engine API at " + engine.host() + " answers (deploy/local/infra.sh up images)").isTrue();
        assertThat(HTTP.send(HttpRequest.newBuilder(URI.create(REGISTRY + "/v2/")).build(), HttpResponse.BodyHandlers.discarding())
                .statusCode()).as("the registry at " + REGISTRY).isEqualTo(200);
    }

    @Test
    void aRealImageWithAnAptAndAnNpmPackageIsBuiltPushedAndThenFoundInAnyOrderWithoutABuild() throws Exception {
        forget(APT_AND_NPM);

        JsonPath built = given().contentType(ContentType.JSON).body(APT_AND_NPM).post("/api/v1/images")
                .then().statusCode(201).extract().jsonPath();
        assertThat(built.getString("result")).isEqualTo("built");
        String id = built.getString("image.id");
        String digest = built.getString("image.registryDigest");
        String reference = built.getString("image.reference");
        assertThat(built.getString("image.status")).isEqualTo("COMPLETED");
        assertThat(digest).as("taken from the registry").isEqualTo(registryDigest(reference));
        assertThat(built.getLong("image.sizeBytes")).isGreaterThan(10_000_000L);
        assertThat(built.getString("image.metadata.installed.apt.hello")).isNotBlank();
        assertThat(built.getString("image.metadata.installed.npm.is-number")).isEqualTo("7.0.0");
        assertThat(built.getString("image.buildLog")).contains("reprise: pushed");
        double buildsBefore = metric("reprise_image_builds_total{result=\"success\"}");

        JsonPath hit = given().contentType(ContentType.JSON).body(APT_AND_NPM_REORDERED).post("/api/v1/images/resolve")
                .then().statusCode(200).extract().jsonPath();

        assertThat(hit.getString("result")).isEqualTo("hit");
        assertThat(hit.getString("image.id")).isEqualTo(id);
        assertThat(hit.getString("image.registryDigest")).isEqualTo(digest);
        assertThat(metric("reprise_image_builds_total{result=\"success\"}")).as("no build for a hit").isEqualTo(buildsBefore);
        assertThat(given().get("/api/v1/images/" + id).then().statusCode(200).extract().jsonPath().getLong("cacheHits")).isEqualTo(1);

        // The packages are really in the image: a container of the pinned image runs them.
        DockerEngine.Ran ran = engine.run(hit.getString("image.pinnedReference"),
                List.of("sh", "-c", "hello && cat \"$(npm root -g)/is-number/package.json\""), Duration.ofMinutes(1));
        assertThat(ran.exitCode()).as(ran.output()).isZero();
        assertThat(ran.output()).contains("Hello, world!").contains("\"version\": \"7.0.0\"");
    }

    @Test
    void aBackgroundBuildAnswersAtOnceAndReportsProgressAsEventsAndThroughGet() throws Exception {
        String body = "{\"dependencies\":[{\"type\":\"apt\",\"name\":\"hello\"}]}";
        forget(body);
        try (KafkaTopicWatcher events = new KafkaTopicWatcher(bootstrap, Topics.IMAGE_EVENTS)) {
            JsonPath started = given().contentType(ContentType.JSON).body(body).post("/api/v1/images?wait=false")
                    .then().statusCode(202).extract().jsonPath();
            assertThat(started.getString("result")).isEqualTo("building");
            String id = started.getString("image.id");

            events.await(r -> r.value().contains("\"subject\":\"" + id + "\"") && r.value().contains("dev.reprise.image.build-started.v1"),
                    Duration.ofSeconds(30));
            events.await(r -> r.value().contains("\"subject\":\"" + id + "\"") && r.value().contains("dev.reprise.image.build-log.v1")
                    && r.value().contains("apt-get"), Duration.ofSeconds(60));
            JsonPath done = awaitFinal(id);
            assertThat(done.getString("status")).isEqualTo("COMPLETED");
            assertThat(done.getString("buildLog")).contains("STEP 3/4: RUN apt-get update").contains("reprise: installed apt hello 2.");
            events.await(r -> r.value().contains("\"subject\":\"" + id + "\"") && r.value().contains("dev.reprise.image.built.v1")
                    && r.value().contains(done.getString("registryDigest")), Duration.ofSeconds(30));
        }
    }

    @Test
    void aFailingBuildRecordsItsLogAndStatusAndIsRetriedOnlyWhenAsked() throws Exception {
        String body = "{\"dependencies\":[{\"type\":\"apt\",\"name\":\"reprise-no-such-package\"}]}";
        forget(body);
        try (KafkaTopicWatcher events = new KafkaTopicWatcher(bootstrap, Topics.IMAGE_EVENTS)) {
            JsonPath failed = given().contentType(ContentType.JSON).body(body).post("/api/v1/images")
                    .then().statusCode(422).extract().jsonPath();

            String id = failed.getString("image.id");
            assertThat(failed.getString("result")).isEqualTo("failed");
            assertThat(failed.getString("image.status")).isEqualTo("FAILED");
            assertThat(failed.getString("image.failureReason")).isNotBlank();
            assertThat(failed.getString("image.buildLog")).contains("Unable to locate package reprise-no-such-package");
            events.await(r -> r.value().contains("\"subject\":\"" + id + "\"") && r.value().contains("dev.reprise.image.build-failed.v1"),
                    Duration.ofSeconds(30));

            JsonPath again = given().contentType(ContentType.JSON).body(body).post("/api/v1/images/resolve")
                    .then().statusCode(200).extract().jsonPath();
            assertThat(again.getString("result")).as("a failed set is not rebuilt on every resolve").isEqualTo("failed");
            given().contentType(ContentType.JSON).body(body.replace("}]}", "}],\"retryFailed\":true}"))
                    .post("/api/v1/images/resolve").then().statusCode(202).body("result", org.hamcrest.Matchers.equalTo("building"));
            assertThat(awaitFinal(id).getString("status")).isEqualTo("FAILED");
            given().delete("/api/v1/images/" + id).then().statusCode(204);
        }
    }

    @Test
    void anImageGoneFromTheRegistryIsRebuiltNeverServed() throws Exception {
        String body = "{\"dependencies\":[]}";
        forget(body);
        JsonPath built = given().contentType(ContentType.JSON).body(body).post("/api/v1/images").then().statusCode(201).extract().jsonPath();
        deleteManifest(built.getString("image.reference"), built.getString("image.registryDigest"));

        JsonPath resolved = given().contentType(ContentType.JSON).body(body).post("/api/v1/images/resolve")
                .then().statusCode(202).extract().jsonPath();

        assertThat(resolved.getString("result")).isEqualTo("building");
        assertThat(resolved.getString("image.id")).isNotEqualTo(built.getString("image.id"));
        assertThat(awaitFinal(resolved.getString("image.id")).getString("status")).isEqualTo("COMPLETED");
    }

    @Test
    void pruneRemovesUnusedImagesFromTheRegistryAndTheIndex() throws Exception {
        String body = "{\"dependencies\":[]}";
        JsonPath image = given().contentType(ContentType.JSON).body(body).post("/api/v1/images").then().extract().jsonPath();
        String id = image.getString("image.id");
        String reference = image.getString("image.reference");
        assertThat(registryDigest(reference)).isNotNull();
        pool.preparedQuery("UPDATE images SET last_used_at = now() - interval '40 days' WHERE id = $1").execute(Tuple.of(id))
                .await().atMost(Duration.ofSeconds(10));

        JsonPath pruned = given().header("Authorization", OPERATOR).contentType(ContentType.JSON).body("{\"unusedDays\":30,\"maxCount\":100000}")
                .post("/api/v1/images/prune").then().statusCode(200).extract().jsonPath();

        assertThat(pruned.getInt("removed")).isGreaterThanOrEqualTo(1);
        assertThat(pruned.getBoolean("dryRun")).isFalse();
        given().get("/api/v1/images/" + id).then().statusCode(404);
        assertThat(registryDigest(reference)).as("the tag is gone from the registry").isNull();
    }

    @Test
    void invalidatingABaseImageRemovesEveryImageBuiltOnIt() throws Exception {
        // A base of its own: the default base copied into a repository only this test uses.
        String repository = "reprise/test-base-" + UUID.randomUUID().toString().substring(0, 8);
        copyImage("reprise/base", "bookworm", repository);
        String base = "127.0.0.1:5000/" + repository + ":bookworm";
        String body = "{\"baseImage\":\"" + base + "\",\"dependencies\":[{\"type\":\"system\",\"name\":\"ca-certificates\"}]}";
        forget(body);
        JsonPath image = given().contentType(ContentType.JSON).body(body).post("/api/v1/images").then().statusCode(201).extract().jsonPath();
        assertThat(given().get("/api/v1/images?baseImage=" + base).then().statusCode(200).extract().jsonPath().getInt("total")).isEqualTo(1);

        given().header("Authorization", OPERATOR).contentType(ContentType.JSON).body("{\"baseImage\":\"" + base + "\"}")
                .post("/api/v1/images/invalidate").then().statusCode(200).body("removed", org.hamcrest.Matchers.equalTo(1));

        given().get("/api/v1/images/" + image.getString("image.id")).then().statusCode(404);
        assertThat(registryDigest(image.getString("image.reference"))).isNull();
        deleteManifest(base, null);
        assertThat(registryDigest("127.0.0.1:5000/reprise/base:bookworm")).as("the original base is untouched").isNotNull();
    }

    @Test
    void statsCountImagesBytesAndHits() {
        String body = "{\"dependencies\":[]}";
        given().contentType(ContentType.JSON).body(body).post("/api/v1/images").then().statusCode(org.hamcrest.Matchers.oneOf(200, 201));
        JsonPath before = given().get("/api/v1/images/stats").then().statusCode(200).extract().jsonPath();

        given().contentType(ContentType.JSON).body(body).post("/api/v1/images/resolve").then().statusCode(200);

        JsonPath after = given().get("/api/v1/images/stats").then().statusCode(200).extract().jsonPath();
        assertThat(after.getLong("hits")).isEqualTo(before.getLong("hits") + 1);
        assertThat(after.getLong("completed")).isGreaterThanOrEqualTo(1);
        assertThat(after.getLong("bytes")).isGreaterThan(0);
        assertThat(after.getDouble("averageHits")).isGreaterThan(0);
    }

    @Test
    void badInputIsRefusedWithWhatToFix() {
        problem(given().contentType(ContentType.JSON).body("{\"dependencies\":[").post("/api/v1/images/resolve"), 400, "malformed JSON");
        problem(given().contentType(ContentType.JSON).body("{\"deps\":[]}").post("/api/v1/images/resolve"), 400, "unknown field 'deps'");
        problem(given().contentType(ContentType.JSON).body("{\"dependencies\":[{\"type\":\"brew\",\"name\":\"x\"}]}").post("/api/v1/images"),
                400, "unknown dependency type 'brew'");
        problem(given().contentType(ContentType.JSON).body("{\"dependencies\":[{\"type\":\"apt\",\"name\":\"x; rm -rf /\"}]}")
                .post("/api/v1/images/resolve"), 400, "not a valid apt package name");
        problem(given().contentType(ContentType.JSON).body("{\"baseImage\":\"NOT A REF\",\"dependencies\":[]}").post("/api/v1/images/resolve"),
                400, "not an image reference");
        problem(given().contentType(ContentType.JSON).body("{\"baseImage\":\"127.0.0.1:5000/reprise/no-such-base:x\",\"dependencies\":[]}")
                .post("/api/v1/images/resolve"), 400, "is not in its registry");
        problem(given().get("/api/v1/images/..%2F..%2Fetc"), 400, "is not an image id");
        problem(given().get("/api/v1/images/" + UUID.randomUUID()), 404, "no image");
        problem(given().delete("/api/v1/images/" + UUID.randomUUID()), 404, "no image");
        problem(given().get("/api/v1/images?size=100000"), 400, "size between 1 and");
        given().contentType(ContentType.JSON).body("{\"dependencies\":[" + "{\"type\":\"apt\",\"name\":\"x\"},".repeat(20_000) + "]}")
                .post("/api/v1/images/resolve").then().statusCode(413);
    }

    @Test
    void everyImageCallNeedsATokenAndChangesNeedAReadWriteOne() {
        // The empty set is built (or found) first, so a read token's resolve below is a hit: a read token starts no build.
        given().contentType(ContentType.JSON).body("{\"dependencies\":[]}").post("/api/v1/images").then().statusCode(org.hamcrest.Matchers.oneOf(200, 201));
        String resolve = "{\"dependencies\":[]}";
        Response anonymous = given().noFilters().contentType(ContentType.JSON).body(resolve).post("/api/v1/images/resolve");
        problem(anonymous, 401, "missing credentials");
        assertThat(anonymous.header("WWW-Authenticate")).startsWith("Bearer");
        problem(given().noFilters().get("/api/v1/images/stats"), 401, "missing credentials");
        problem(given().noFilters().header("Authorization", "Bearer rpr_" + "x".repeat(43)).get("/api/v1/images/stats"), 401,
                "unknown or revoked token");

        String reader = "Bearer " + TestGateway.token(TestGateway.newTenant(), "read");
        given().noFilters().header("Authorization", reader).get("/api/v1/images/stats").then().statusCode(200);
        given().noFilters().header("Authorization", reader).contentType(ContentType.JSON).body(resolve).post("/api/v1/images/resolve")
                .then().statusCode(200).body("result", org.hamcrest.Matchers.equalTo("hit"));
        problem(given().noFilters().header("Authorization", reader).contentType(ContentType.JSON).body(resolve).post("/api/v1/images"),
                403, "needs a token with scope read-write");
        problem(given().noFilters().header("Authorization", reader).contentType(ContentType.JSON).body("{\"unusedDays\":30}")
                .post("/api/v1/images/prune"), 403, "needs a token with scope operator");
        problem(given().noFilters().header("Authorization", reader).delete("/api/v1/images/" + UUID.randomUUID()), 403,
                "needs a token with scope read-write");
        given().noFilters().get("/q/health/ready").then().statusCode(200);
    }

    // --- helpers ---

    private static void problem(Response response, int status, String detail) {
        response.then().statusCode(status).contentType("application/problem+json").body("detail", containsString(detail))
                .body("status", org.hamcrest.Matchers.equalTo(status));
    }

    /** Deletes the set's image if an earlier run left one, so this test really builds. */
    private static void forget(String body) {
        JsonPath resolved = given().contentType(ContentType.JSON).body(body).post("/api/v1/images/resolve").then().extract().jsonPath();
        String id = resolved.getString("image.id");
        if (id != null) {
            awaitFinal(id);
            given().delete("/api/v1/images/" + id).then().statusCode(org.hamcrest.Matchers.oneOf(204, 404));
        }
    }

    private static JsonPath awaitFinal(String id) {
        JsonPath[] last = new JsonPath[1];
        await().atMost(Duration.ofMinutes(10)).pollInterval(Duration.ofMillis(500)).until(() -> {
            last[0] = given().get("/api/v1/images/" + id).then().statusCode(200).extract().jsonPath();
            String status = last[0].getString("status");
            return status.equals("COMPLETED") || status.equals("FAILED");
        });
        return last[0];
    }

    private static double metric(String series) {
        String text = given().get("/q/metrics").then().statusCode(200).extract().asString();
        return text.lines().filter(l -> l.startsWith(series + " ")).mapToDouble(l -> Double.parseDouble(l.substring(series.length() + 1)))
                .findFirst().orElse(0);
    }

    /** The registry's digest for a host/repo:tag reference, or null when it has no such tag. */
    private static String registryDigest(String reference) throws Exception {
        String[] parts = split(reference);
        HttpResponse<Void> head = HTTP.send(HttpRequest.newBuilder(URI.create(REGISTRY + "/v2/" + parts[0] + "/manifests/" + parts[1]))
                .method("HEAD", HttpRequest.BodyPublishers.noBody())
                .header("Accept", "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json").build(),
                HttpResponse.BodyHandlers.discarding());
        return head.statusCode() == 200 ? head.headers().firstValue("Docker-Content-Digest").orElseThrow() : null;
    }

    private static void deleteManifest(String reference, String digest) throws Exception {
        String[] parts = split(reference);
        String target = digest != null ? digest : registryDigest(reference);
        HTTP.send(HttpRequest.newBuilder(URI.create(REGISTRY + "/v2/" + parts[0] + "/manifests/" + target)).DELETE().build(),
                HttpResponse.BodyHandlers.discarding());
    }

    /**
     * Copies an image into another repository of the registry (blobs mounted, manifest put), so
     * deleting the copy's manifest later cannot touch the original's tags.
     */
    private static void copyImage(String fromRepository, String tag, String toRepository) throws Exception {
        String accept = "application/vnd.docker.distribution.manifest.v2+json";
        HttpResponse<String> manifest = HTTP.send(HttpRequest.newBuilder(URI.create(REGISTRY + "/v2/" + fromRepository + "/manifests/" + tag))
                .header("Accept", accept).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(manifest.statusCode()).isEqualTo(200);
        JsonPath parsed = new JsonPath(manifest.body());
        List<String> blobs = new java.util.ArrayList<>(parsed.getList("layers.digest", String.class));
        blobs.add(parsed.getString("config.digest"));
        for (String blob : blobs) {
            HttpResponse<String> mount = HTTP.send(HttpRequest.newBuilder(URI.create(REGISTRY + "/v2/" + toRepository
                    + "/blobs/uploads/?mount=" + blob + "&from=" + fromRepository)).POST(HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(mount.statusCode()).as("mount " + blob + ": " + mount.body()).isEqualTo(201);
        }
        HttpResponse<String> put = HTTP.send(HttpRequest.newBuilder(URI.create(REGISTRY + "/v2/" + toRepository + "/manifests/" + tag))
                .header("Content-Type", manifest.headers().firstValue("Content-Type").orElse(accept))
                .PUT(HttpRequest.BodyPublishers.ofString(manifest.body())).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(put.statusCode()).as(put.body()).isEqualTo(201);
    }

    /** host/repo:tag → {repo, tag}. */
    private static String[] split(String reference) {
        String withoutHost = reference.substring(reference.indexOf('/') + 1);
        int colon = withoutHost.lastIndexOf(':');
        return new String[] {withoutHost.substring(0, colon), withoutHost.substring(colon + 1)};
    }
}
