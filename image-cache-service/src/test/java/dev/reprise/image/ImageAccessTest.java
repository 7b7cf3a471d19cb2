package dev.reprise.image;

import dev.reprise.testing.LocalRegistry;
import org.junit.jupiter.api.BeforeAll;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.reprise.events.Dependency;
import dev.reprise.image.deps.DependencySet;
import dev.reprise.image.registry.ImageReference;
import dev.reprise.image.service.ImageCache;
import dev.reprise.image.store.ImageStore;
import dev.reprise.testing.RepriseInfrastructure;
import dev.reprise.testing.TestGateway;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import io.restassured.response.Response;
import io.restassured.specification.RequestSpecification;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Who may do what with the image cache. A read token gets what exists and never has a build
 * started; store-wide removal (prune, invalidate) and the cache report are an operator's, never a
 * tenant's (its admin included); a dry-run prune removes nothing. Images are put in the index
 * directly, so no test here builds one (the registry answers for the one that must exist).
 */
@QuarkusTest
@WithTestResource(value = RepriseInfrastructure.class, initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis"))
@WithTestResource(TestGateway.class) // the same resources as ImageApiTest: one application for both
class ImageAccessTest {

    @BeforeAll
    static void baseImageInTheRegistry() throws InterruptedException {
        LocalRegistry.awaitBaseImage(); // some rows here point at it
    }

    private static final Duration DB = Duration.ofSeconds(10);

    @Inject
    ImageCache images;
    @Inject
    ImageStore store;
    @Inject
    Pool pool;
    @ConfigProperty(name = "reprise.images.default-base-image")
    String defaultBase;

    private final String tenant = TestGateway.newTenant();
    private final String reader = TestGateway.token(tenant, "read");
    private final String writer = TestGateway.token(tenant, "read-write");
    private final String admin = TestGateway.token(tenant, "admin");
    private final String operator = TestGateway.token(TestGateway.newTenant(), "operator");
    private final List<String> rows = new ArrayList<>();

    @AfterEach
    void forgetRows() {
        // Straight from the index: an API delete would remove the registry manifest some of these rows point at (the base image).
        rows.forEach(id -> pool.preparedQuery("DELETE FROM images WHERE id = $1").execute(Tuple.of(id)).await().atMost(DB));
    }

    @Test
    void aReadTokenResolvingASetNobodyBuiltGets403AndNoBuildIsStarted() {
        String name = "reprise-never-built-" + UUID.randomUUID().toString().replace("-", "");
        String body = "{\"dependencies\":[{\"type\":\"apt\",\"name\":\"" + name + "\"}]}";

        Response refused = as(reader).body(body).post("/api/v1/images/resolve");

        problem(refused, 403, "a build of this dependency set needs a read-write token");
        refused.then().body("detail", containsString("no image of this dependency set is built yet"));
        assertThat(count("SELECT count(*) FROM image_dependencies WHERE name = '" + name + "'")).as("no image row for the set").isZero();
        // retryFailed changes nothing for a set that was never built.
        problem(as(reader).body(body.replace("]}", "],\"retryFailed\":true}")).post("/api/v1/images/resolve"), 403, "read-write token");
        assertThat(count("SELECT count(*) FROM image_dependencies WHERE name = '" + name + "'")).isZero();
    }

    @Test
    void aReadTokenGetsAnImageThatExists() {
        DependencySet set = set("hit");
        // An image that really is in the registry: the base image itself stands in for a built one.
        String id = insert(set, "COMPLETED", ImageReference.parse(defaultBase).toString(), set.baseDigest());

        JsonPath hit = as(reader).body(body(set, false)).post("/api/v1/images/resolve").then().statusCode(200).extract().jsonPath();

        assertThat(hit.getString("result")).isEqualTo("hit");
        assertThat(hit.getString("image.id")).isEqualTo(id);
        assertThat(column(id, "cache_hits")).isEqualTo("1");
    }

    @Test
    void aReadTokenNeverRetriesAFailedBuildNorRebuildsAVanishedImage() {
        DependencySet failedSet = set("failed");
        String failed = insert(failedSet, "FAILED", null, null);
        as(reader).body(body(failedSet, false)).post("/api/v1/images/resolve").then().statusCode(200).body("result", equalTo("failed"));

        problem(as(reader).body(body(failedSet, true)).post("/api/v1/images/resolve"), 403, "retrying its failed build");
        assertThat(column(failed, "status")).isEqualTo("FAILED");
        assertThat(column(failed, "build_started_at")).as("never claimed by a builder").isNull();

        // Completed once, but its manifest is gone from the registry: a read token gets 403, and the row stays.
        DependencySet goneSet = set("gone");
        String gone = insert(goneSet, "COMPLETED", "127.0.0.1:5000/reprise/never-pushed-" + UUID.randomUUID().toString().substring(0, 8) + ":x",
                "sha256:" + "0".repeat(64));
        problem(as(reader).body(body(goneSet, false)).post("/api/v1/images/resolve"), 403, "gone from the registry");
        assertThat(column(gone, "status")).as("not forgotten, not rebuilt").isEqualTo("COMPLETED");

        // A build already running is reported as it is: nothing new started, nothing resubmitted.
        DependencySet pendingSet = set("pending");
        String pending = insert(pendingSet, "PENDING", null, null);
        as(reader).body(body(pendingSet, false)).post("/api/v1/images/resolve").then().statusCode(202).body("result", equalTo("building"))
                .body("image.id", equalTo(pending));
        assertThat(column(pending, "status")).as("no builder was handed the row").isEqualTo("PENDING");
    }

    @Test
    void maxCountZeroMeansNoLimitNotKeepNothing() {
        String recent = insert(set("recent"), "FAILED", null, null);
        String old = insert(set("stale"), "FAILED", null, null);
        pool.preparedQuery("UPDATE images SET last_used_at = now() - interval '40 days' WHERE id = $1").execute(Tuple.of(old)).await().atMost(DB);

        JsonPath dry = as(operator).body("{\"unusedDays\":30,\"maxCount\":0}").post("/api/v1/images/prune?dryRun=true")
                .then().statusCode(200).extract().jsonPath();
        assertThat(dry.getList("images.id", String.class)).as("only what is unused for 30 days").contains(old).doesNotContain(recent);
        JsonPath none = as(operator).body("{\"unusedDays\":0,\"maxCount\":0}").post("/api/v1/images/prune?dryRun=true")
                .then().statusCode(200).extract().jsonPath();
        assertThat(none.getList("images.id", String.class)).as("no age and no count limit: nothing goes").doesNotContain(recent, old);
    }

    @Test
    void aDryRunPruneListsWhatWouldGoAndRemovesNothing() {
        DependencySet set = set("old");
        String old = insert(set, "FAILED", null, null);
        pool.preparedQuery("UPDATE images SET last_used_at = now() - interval '40 days' WHERE id = $1").execute(Tuple.of(old)).await().atMost(DB);

        JsonPath dry = as(operator).body("{\"unusedDays\":30,\"maxCount\":100000}").post("/api/v1/images/prune?dryRun=true")
                .then().statusCode(200).extract().jsonPath();

        assertThat(dry.getBoolean("dryRun")).isTrue();
        assertThat(dry.getInt("removed")).isZero();
        assertThat(dry.getInt("wouldRemove")).isGreaterThanOrEqualTo(1).isEqualTo(dry.getList("images").size());
        assertThat(dry.getList("images.id", String.class)).contains(old);
        assertThat(dry.getString("images.find { it.id == '" + old + "' }.reference")).isEqualTo(column(old, "reference"));
        for (String listed : dry.getList("images.id", String.class)) {
            assertThat(count("SELECT count(*) FROM images WHERE id = '" + listed + "'")).as(listed + " is still there").isEqualTo(1);
        }

        // Unknown, misspelt, doubled or odd parameters are refused before anything is removed.
        problem(as(operator).body("{\"unusedDays\":30}").post("/api/v1/images/prune?dryrun=true"), 400, "unknown query parameter dryrun");
        problem(as(operator).body("{\"unusedDays\":30}").post("/api/v1/images/prune?dryRun=true&force=1&all=yes"), 400,
                "unknown query parameters all, force");
        problem(as(operator).body("{\"unusedDays\":30}").post("/api/v1/images/prune?dryRun=yes"), 400, "dryRun must be given once");
        problem(as(operator).body("{\"unusedDays\":30}").post("/api/v1/images/prune?dryRun=true&dryRun=false"), 400, "dryRun must be given once");
        assertThat(column(old, "status")).isEqualTo("FAILED");
    }

    @Test
    void pruneAndInvalidateAreAnOperatorsNotATenantsAdmins() {
        String base = "127.0.0.1:5000/reprise/no-images-on-" + UUID.randomUUID().toString().substring(0, 8) + ":x";
        for (String[] call : new String[][] {{"/api/v1/images/prune?dryRun=true", "{\"unusedDays\":30}"},
                {"/api/v1/images/invalidate", "{\"baseImage\":\"" + base + "\"}"}}) {
            Response anonymous = given().noFilters().contentType(ContentType.JSON).body(call[1]).post(call[0]);
            problem(anonymous, 401, "missing credentials");
            assertThat(anonymous.header("WWW-Authenticate")).startsWith("Bearer");
            for (String token : List.of(reader, writer, admin)) {
                problem(as(token).body(call[1]).post(call[0]), 403, "needs a token with scope operator");
            }
            as(operator).body(call[1]).post(call[0]).then().statusCode(200);
        }
        as(operator).body("{\"baseImage\":\"" + base + "\"}").post("/api/v1/images/invalidate").then().body("removed", equalTo(0));
    }

    @Test
    void theCacheReportNeedsAnOperatorToken() {
        Response anonymous = given().noFilters().get("/api/v1/admin/caches");
        problem(anonymous, 401, "missing credentials");
        assertThat(anonymous.header("WWW-Authenticate")).startsWith("Bearer");
        for (String token : List.of(reader, writer, admin)) {
            problem(with(token).get("/api/v1/admin/caches"), 403, "needs a token with scope operator");
        }
        with(operator).get("/api/v1/admin/caches").then().statusCode(200)
                .body("caches.find { it.name == 'token' }", org.hamcrest.Matchers.notNullValue());
        // However the path is spelt, a tenant's token never reads it.
        for (String path : List.of("/api/v1/admin/caches/", "/api/v1//admin/caches", "//api/v1/admin/caches", "/api/v1/admin/./caches")) {
            assertThat(with(admin).get(path).statusCode()).as(path).isIn(400, 403, 404);
        }
    }

    // --- helpers ---

    /** A request with this token alone (never the token another test class set for every request). */
    private static RequestSpecification with(String token) {
        return given().noFilters().header("Authorization", "Bearer " + token);
    }

    private static RequestSpecification as(String token) {
        return with(token).contentType(ContentType.JSON);
    }

    private static void problem(Response response, int status, String detail) {
        response.then().statusCode(status).contentType("application/problem+json").body("detail", containsString(detail))
                .body("status", equalTo(status));
    }

    /** A set of the default base no other test uses. */
    private DependencySet set(String label) {
        String name = "reprise-access-" + label + "-" + UUID.randomUUID().toString().replace("-", "");
        return images.dependencySet(null, List.of(new Dependency("apt", name, null))).await().atMost(DB);
    }

    private static String body(DependencySet set, boolean retryFailed) {
        return "{\"dependencies\":[{\"type\":\"apt\",\"name\":\"" + set.dependencies().get(0).name() + "\"}]"
                + (retryFailed ? ",\"retryFailed\":true" : "") + "}";
    }

    /** An image row in the given state, as the builder would have left it. */
    private String insert(DependencySet set, String status, String reference, String digest) {
        String id = UUID.randomUUID().toString();
        String ref = reference != null ? reference : "127.0.0.1:5000/reprise/images:h-" + set.hash();
        assertThat(store.insertPending(id, set, ref.substring(ref.lastIndexOf(':') + 1), ref).await().atMost(DB)).isTrue();
        rows.add(id);
        pool.preparedQuery("UPDATE images SET status = $2, registry_digest = $3, failure_reason = $4, size_bytes = $5 WHERE id = $1")
                .execute(Tuple.of(id, status, digest, status.equals("FAILED") ? "a test's failure" : null, digest == null ? null : 1L))
                .await().atMost(DB);
        return id;
    }

    private String column(String id, String column) {
        Row row = pool.preparedQuery("SELECT " + column + "::text AS v FROM images WHERE id = $1").execute(Tuple.of(id)).await().atMost(DB)
                .iterator().next();
        return row.getString("v");
    }

    private long count(String sql) {
        return pool.query(sql).execute().await().atMost(DB).iterator().next().getLong(0);
    }
}
