package dev.reprise.artifact;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.reprise.artifact.service.ActionsUploads;
import dev.reprise.testing.RepriseInfrastructure;
import dev.reprise.testing.TestGateway;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import io.vertx.core.json.JsonObject;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Base64;
import java.util.Random;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * GitHub Actions' cache protocols, v1 and v2, as {@code @actions/cache} 6.3.0 sends them (the
 * real toolkit runs against the service in the e2e suite's ActionsCacheIT), against real stores.
 */
@QuarkusTest
@WithTestResource(value = RepriseInfrastructure.class, initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis,s3"))
@WithTestResource(TestGateway.class)
class ActionsCacheTest {

    private static final String V1 = "/_apis/artifactcache/";
    private static final String TWIRP = "/twirp/github.actions.results.api.v1.CacheService/";
    private static final String ACCEPT = "application/json;api-version=6.0-preview.1";
    private static final Random RANDOM = new Random();

    @Inject
    ActionsUploads uploads;

    private final String tenant = TestGateway.newTenant();
    private final String writer = TestGateway.token(tenant, "read-write");
    private final String version = sha(UUID.randomUUID().toString());

    private RequestSpecification v1(String token) {
        // paths and keys are sent as written (a branch prefix is already percent-encoded, as the toolkit keeps it)
        return given().urlEncodingEnabled(false).auth().oauth2(token).header("Accept", ACCEPT);
    }

    @Test
    void v1SavesInOutOfOrderChunksAndRestoresByKeyAndByPrefixFromASignedUrl() {
        String key = "npm-Linux-" + UUID.randomUUID();
        byte[] archive = random(300_000);
        v1(writer).queryParam("keys", key).queryParam("version", version).get(V1 + "cache").then().statusCode(204);

        long id = reserve(writer, "", key, archive.length);
        assertThat(id).isPositive().isLessThan(1L << 53);
        // the toolkit sends chunks concurrently: the second may land first
        chunk(writer, "", id, archive, 200_000, archive.length).then().statusCode(204);
        chunk(writer, "", id, archive, 0, 200_000).then().statusCode(204);
        v1(writer).contentType("application/json").body("{\"size\": " + archive.length + "}").post(V1 + "caches/" + id).then().statusCode(204);

        Response exact = v1(writer).queryParam("keys", key + ",npm-Linux-").queryParam("version", version).get(V1 + "cache");
        exact.then().statusCode(200).body("cacheKey", equalTo(key)).body("scope", equalTo("main")).body("cacheVersion", equalTo(version));
        String location = exact.jsonPath().getString("archiveLocation");
        assertThat(location).startsWith("http://").contains(V1 + "archive/").contains("sig=");
        // fetched as the toolkit does: no token
        assertThat(given().get(location).then().statusCode(200).header("Content-Length", String.valueOf(archive.length))
                .extract().asByteArray()).isEqualTo(archive);

        // a restore key matches as a prefix; the newest entry wins
        v1(writer).queryParam("keys", "npm-Linux-nothing-like-it,npm-Linux-").queryParam("version", version).get(V1 + "cache").then()
                .statusCode(200).body("cacheKey", equalTo(key));
        // another version (other paths or compression) or another tenant: a miss
        v1(writer).queryParam("keys", key).queryParam("version", sha("other")).get(V1 + "cache").then().statusCode(204);
        String stranger = TestGateway.token(TestGateway.newTenant(), "read-write");
        v1(stranger).queryParam("keys", key).queryParam("version", version).get(V1 + "cache").then().statusCode(204);
        chunk(writer, "", id, archive, 0, 10).then().statusCode(404); // the committed upload is over
    }

    @Test
    void v1EntriesAreImmutableAndAnUploadOnlyCommitsWhenEveryByteArrived() {
        String key = "gradle-" + UUID.randomUUID();
        byte[] archive = random(10_000);
        long id = reserve(writer, "", key, archive.length);
        v1(writer).contentType("application/json").body(new JsonObject().put("key", key).put("version", version).put("cacheSize", 5).encode())
                .post(V1 + "caches").then().statusCode(409).body("message", containsString("right now"));

        chunk(writer, "", id, archive, 0, 4_000).then().statusCode(204);
        chunk(writer, "", id, archive, 6_000, archive.length).then().statusCode(204);
        v1(writer).contentType("application/json").body("{\"size\": " + archive.length + "}").post(V1 + "caches/" + id).then().statusCode(400)
                .body("message", containsString("received 0-3999, 6000-9999"));
        v1(writer).queryParam("keys", key).queryParam("version", version).get(V1 + "cache").then().statusCode(204);

        // a chunk that says one length and sends another, one without a range, one past the reserved size
        v1(writer).header("Content-Range", "bytes 4000-5999/*").contentType("application/octet-stream")
                .body(Arrays.copyOfRange(archive, 4_000, 5_000)).patch(V1 + "caches/" + id).then().statusCode(400)
                .body("message", containsString("has 1000 bytes"));
        v1(writer).contentType("application/octet-stream").body(archive).patch(V1 + "caches/" + id).then().statusCode(400)
                .body("message", containsString("Content-Range"));
        v1(writer).header("Content-Range", "bytes 9000-10999/*").contentType("application/octet-stream")
                .body(random(2_000)).patch(V1 + "caches/" + id).then().statusCode(400).body("message", containsString("beyond the reserved size"));

        v1(writer).header("Content-Range", "bytes 4000-4009/*").contentType("application/octet-stream").body(random(20))
                .patch(V1 + "caches/" + id).then().statusCode(413).body("message", containsString("at most 10"));
        chunk(writer, "", id, archive, 4_000, 6_000).then().statusCode(204);
        v1(writer).contentType("application/json").body("{\"size\": 9999}").post(V1 + "caches/" + id).then().statusCode(400)
                .body("message", containsString("not the reserved size"));
        v1(writer).contentType("application/json").body("{\"size\": " + archive.length + "}").post(V1 + "caches/" + id).then().statusCode(204);
        v1(writer).contentType("application/json").body(new JsonObject().put("key", key).put("version", version).put("cacheSize", 5).encode())
                .post(V1 + "caches").then().statusCode(409).body("message", containsString("immutable"));
        // the upload is over: its id takes nothing more
        chunk(writer, "", id, archive, 0, 10).then().statusCode(404);
    }

    @Test
    void v1RefusesWhatItCannotUseWithAMessage() {
        String reader = TestGateway.token(tenant, "read");
        v1(reader).contentType("application/json").body(new JsonObject().put("key", "k").put("version", version).put("cacheSize", 1).encode())
                .post(V1 + "caches").then().statusCode(403).body("message", containsString("read-only"));
        v1(writer).contentType("application/json").body("{\"key\": \"k\", \"version\": \"" + version + "\", \"cacheSize\": 1, \"scope\": \"x\"}")
                .post(V1 + "caches").then().statusCode(400).body("message", containsString("unknown field 'scope'"));
        v1(writer).contentType("application/json").body("{not json").post(V1 + "caches").then().statusCode(400);
        v1(writer).contentType("application/json").body(new JsonObject().put("key", "k").put("version", version)
                .put("cacheSize", 1L << 40).encode()).post(V1 + "caches").then().statusCode(400).body("message", containsString("data cap"));
        v1(writer).queryParam("keys", "k").get(V1 + "cache").then().statusCode(400).body("message", containsString("version"));
        v1(writer).queryParam("keys", "a,b,c,d,e,f,g,h,i,j,k").queryParam("version", version).get(V1 + "cache").then().statusCode(400);
        given().header("Accept", ACCEPT).queryParam("keys", "k").queryParam("version", version).get(V1 + "cache").then().statusCode(401);
        v1(writer).contentType("application/json").body("{\"size\": 1}").post(V1 + "caches/123456789").then().statusCode(404)
                .body("message", containsString("reserve the cache first"));
    }

    @Test
    void aTenantHasABoundedNumberOfUploadsInProgress() {
        String tenantToken = TestGateway.token(TestGateway.newTenant(), "read-write");
        int before = uploads.inProgress();
        for (int i = 0; i < 32; i++) {
            reserve(tenantToken, "", "many-" + i, 10);
        }
        v1(tenantToken).contentType("application/json").body(new JsonObject().put("key", "many-33").put("version", version).put("cacheSize", 10).encode())
                .post(V1 + "caches").then().statusCode(429).body("message", containsString("32 cache uploads in progress"));
        // another tenant is not held up by it
        reserve(writer, "", "mine-" + UUID.randomUUID(), 10);
        assertThat(uploads.inProgress()).isEqualTo(before + 33);
    }

    @Test
    void aSignedArchiveUrlServesOnlyItsEntryItsTenantAndUntilItExpires() {
        String key = "signed-" + UUID.randomUUID();
        byte[] archive = random(5_000);
        save(writer, "", key, archive);
        String location = v1(writer).queryParam("keys", key).queryParam("version", version).get(V1 + "cache").jsonPath()
                .getString("archiveLocation");
        String path = location.substring(location.indexOf(V1));
        given().get(path).then().statusCode(200);
        given().get(path.replaceAll("sig=[^&]+", "sig=" + "A".repeat(43))).then().statusCode(403).body("message", containsString("signature"));
        given().get(path.replaceAll("exp=([0-9]+)", "exp=9$1")).then().statusCode(403);
        given().get(path.replaceAll("tenant=[^&]+", "tenant=" + TestGateway.newTenant())).then().statusCode(403);
        long entry = Long.parseLong(path.replaceAll(".*/archive/([0-9]+)\\?.*", "$1"));
        given().get(path.replace("/archive/" + entry + "?", "/archive/" + (entry + 1) + "?")).then().statusCode(403);
        given().get(path.replaceAll("\\?.*", "")).then().statusCode(403).body("message", containsString("not signed"));
    }

    @Test
    void v1BranchScopesSaveToTheBranchAndRestoreFallsBackToTheDefaultBranch() {
        String key = "branch-" + UUID.randomUUID();
        String feature = "/branch/feature%2Fcache/";
        save(writer, feature, key + "-feature", random(100));
        save(writer, "", key + "-main", random(100));
        v1(writer).queryParam("keys", key + "-feature").queryParam("version", version).get(V1 + "cache").then().statusCode(204);
        v1(writer).queryParam("keys", key + "-feature").queryParam("version", version).get(feature.substring(0, feature.length() - 1) + V1 + "cache")
                .then().statusCode(200).body("scope", equalTo("feature/cache"));
        v1(writer).queryParam("keys", key + "-main").queryParam("version", version).get("/branch/other" + V1 + "cache").then()
                .statusCode(200).body("scope", equalTo("main"));
        v1(writer).queryParam("keys", "k").queryParam("version", version).get("/branch/bad..name" + V1 + "cache").then().statusCode(400);
    }

    @Test
    void v2SavesThroughBlocksAndABlockListAndRestoresWithRestoreKeys() {
        String key = "pip-" + UUID.randomUUID();
        byte[] archive = random(250_000);
        twirp(writer, "GetCacheEntryDownloadURL", new JsonObject().put("key", key).put("version", version)).then().statusCode(200)
                .body("ok", equalTo(false));
        Response created = twirp(writer, "CreateCacheEntry", new JsonObject().put("key", key).put("version", version));
        created.then().statusCode(200).body("ok", equalTo(true));
        String upload = created.jsonPath().getString("signed_upload_url");
        assertThat(upload).contains("/actions-cache/uploads/").contains("sig=");
        String b0 = Base64.getEncoder().encodeToString("block-000000".getBytes(StandardCharsets.UTF_8));
        String b1 = Base64.getEncoder().encodeToString("block-000001".getBytes(StandardCharsets.UTF_8));
        // blocks out of order, then the list that orders them; every answer 201 (the SDK accepts nothing else)
        given().contentType("application/octet-stream").body(Arrays.copyOfRange(archive, 100_000, archive.length))
                .put(upload + "&comp=block&blockid=" + b1).then().statusCode(201).header("ETag", org.hamcrest.Matchers.notNullValue());
        given().contentType("application/octet-stream").body(Arrays.copyOfRange(archive, 0, 100_000))
                .put(upload + "&comp=block&blockid=" + b0).then().statusCode(201);
        given().contentType("application/xml").body("<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><BlockList><Latest>" + b0
                + "</Latest><Latest>" + b1 + "</Latest></BlockList>").put(upload + "&comp=blocklist").then().statusCode(201);
        twirp(writer, "FinalizeCacheEntryUpload", new JsonObject().put("key", key).put("size_bytes", String.valueOf(archive.length))
                .put("version", version)).then().statusCode(200).body("ok", equalTo(true))
                .body("entry_id", org.hamcrest.Matchers.matchesPattern("[0-9]+"));

        Response found = twirp(writer, "GetCacheEntryDownloadURL", new JsonObject().put("key", "pip-nothing").put("version", version)
                .put("restore_keys", new io.vertx.core.json.JsonArray().add("pip-")));
        found.then().statusCode(200).body("ok", equalTo(true)).body("matched_key", equalTo(key));
        assertThat(given().get(found.jsonPath().getString("signed_download_url")).then().statusCode(200).extract().asByteArray())
                .isEqualTo(archive);

        twirp(writer, "CreateCacheEntry", new JsonObject().put("key", key).put("version", version)).then().statusCode(409)
                .body("code", equalTo("already_exists")).body("msg", containsString("immutable"));
    }

    @Test
    void v2SinglePutUploadsAndErrorsAreTwirpJsonOrBlobServiceXml() {
        String key = "single-" + UUID.randomUUID();
        byte[] archive = random(1_000);
        String upload = twirp(writer, "CreateCacheEntry", new JsonObject().put("key", key).put("version", version)).jsonPath()
                .getString("signed_upload_url");
        given().header("x-ms-blob-type", "BlockBlob").contentType("application/octet-stream").body(archive).put(upload).then().statusCode(201);
        // a finalize that claims another size is refused, and the entry does not appear
        twirp(writer, "FinalizeCacheEntryUpload", new JsonObject().put("key", key).put("size_bytes", "999").put("version", version)).then()
                .statusCode(400).body("code", equalTo("invalid_argument"));
        twirp(writer, "FinalizeCacheEntryUpload", new JsonObject().put("key", key).put("size_bytes", "1000").put("version", version)).then()
                .statusCode(200).body("ok", equalTo(true));

        given().contentType("application/octet-stream").body(archive).put(upload.replaceAll("sig=[^&]+", "sig=" + "B".repeat(43))).then()
                .statusCode(403).contentType(containsString("xml")).body(containsString("<Code>AuthenticationFailed</Code>"));
        given().auth().oauth2(writer).contentType("application/json").body("not json").post(TWIRP + "CreateCacheEntry").then().statusCode(400)
                .body("code", equalTo("invalid_argument"));
        twirp(writer, "DeleteCacheEntry", new JsonObject().put("key", key)).then().statusCode(404).body("code", equalTo("bad_route"));
        given().contentType("application/json").body(new JsonObject().put("key", key).put("version", version).encode())
                .post(TWIRP + "GetCacheEntryDownloadURL").then().statusCode(401).body("code", equalTo("unauthenticated"));
        twirp(writer, "CreateCacheEntry", new JsonObject().put("key", "k").put("version", version).put("extra", 1)).then().statusCode(400)
                .body("msg", containsString("unknown field 'extra'"));
    }

    private Response twirp(String token, String method, JsonObject body) {
        return given().auth().oauth2(token).contentType("application/json").body(body.encode()).post(TWIRP + method);
    }

    private long reserve(String token, String prefix, String key, long size) {
        return v1(token).contentType("application/json").body(new JsonObject().put("key", key).put("version", version).put("cacheSize", size).encode())
                .post(path(prefix) + "caches").then().statusCode(201).extract().jsonPath().getLong("cacheId");
    }

    private Response chunk(String token, String prefix, long id, byte[] archive, int from, int to) {
        return v1(token).header("Content-Range", "bytes " + from + "-" + (to - 1) + "/*").contentType("application/octet-stream")
                .body(Arrays.copyOfRange(archive, from, to)).patch(path(prefix) + "caches/" + id);
    }

    private void save(String token, String prefix, String key, byte[] archive) {
        long id = reserve(token, prefix, key, archive.length);
        chunk(token, prefix, id, archive, 0, archive.length).then().statusCode(204);
        v1(token).contentType("application/json").body("{\"size\": " + archive.length + "}").post(path(prefix) + "caches/" + id).then().statusCode(204);
    }

    private static String path(String prefix) {
        return prefix.isEmpty() ? V1 : prefix.substring(0, prefix.length() - 1) + V1;
    }

    private static byte[] random(int size) {
        byte[] bytes = new byte[size];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    private static String sha(String text) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
