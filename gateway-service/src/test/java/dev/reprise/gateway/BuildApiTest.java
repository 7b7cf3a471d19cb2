package dev.reprise.gateway;

import dev.reprise.events.StreamTickets;
import org.eclipse.microprofile.config.ConfigProvider;
import static org.hamcrest.Matchers.startsWith;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.not;
import static org.hamcrest.Matchers.hasSize;
import static org.hamcrest.Matchers.matchesPattern;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reprise.events.BuildCompleted;
import dev.reprise.events.BuildEvent;
import dev.reprise.events.BuildStarted;
import dev.reprise.events.BuildStatus;
import dev.reprise.events.Topics;
import dev.reprise.gateway.service.ApiTokens;
import dev.reprise.gateway.store.TenantStore;
import dev.reprise.testing.KafkaTopicWatcher;
import dev.reprise.testing.RepriseInfrastructure;
import dev.reprise.testing.TestGitRepo;
import dev.reprise.testing.TestKafkaProducer;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The build API against the real stores and a real git repository; no runner involved. */
@QuarkusTest
@WithTestResource(value = RepriseInfrastructure.class,
        initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis"))
class BuildApiTest {

    @Inject
    TenantStore tenants;
    @Inject
    ObjectMapper json;
    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    private String token;
    private String tenant;
    private Path repo;
    private String mainSha;

    @BeforeEach
    void tenantAndRepository() throws Exception {
        tenant = "t-" + UUID.randomUUID();
        token = token(tenant, "read-write");
        TestGitRepo git = TestGitRepo.withBuildScript("echo " + tenant);
        git.git("tag", "v1");
        mainSha = git.head();
        repo = git.dir();
    }

    @Test
    void aBuildIsQueuedWithItsRefResolvedAndPublishedForTheRunners() throws Exception {
        try (KafkaTopicWatcher watcher = new KafkaTopicWatcher(bootstrap, Topics.BUILD_REQUESTS)) {
            Response created = submit("{\"repository\":\"file://" + repo + "//\",\"ref\":\"main\",\"tool\":\"make\"}");
            created.then().statusCode(202)
                    .header("Location", matchesPattern("/api/v1/builds/[0-9a-f-]{36}"))
                    .body("status", equalTo("QUEUED")).body("cached", equalTo(false)).body("coalesced", equalTo(false))
                    .body("commit", equalTo(mainSha)).body("repository", equalTo("file://" + repo))
                    .body("cacheKey", matchesPattern("[0-9a-f]{64}"))
                    .body("streamUrl", startsWith("ws://127.0.0.1:8082/ws/builds/" + created.path("buildId") + "?ticket="));

            String buildId = created.path("buildId");
            // The ticket opens this build's stream for the caller's tenant, and nothing else.
            String ticket = created.<String>path("streamUrl").substring(created.<String>path("streamUrl").indexOf("?ticket=") + 8);
            StreamTickets tickets = new StreamTickets(ConfigProvider.getConfig().getValue("reprise.builds.stream-secret", String.class));
            assertThat(tickets.verify(ticket, java.time.Instant.now())).hasValueSatisfying(t -> {
                assertThat(t.subject()).isEqualTo(StreamTickets.build(buildId));
                assertThat(t.tenantId()).isEqualTo(tenant);
                assertThat(t.expiresAtEpochSecond()).isBetween(java.time.Instant.now().getEpochSecond() + 3500,
                        java.time.Instant.now().getEpochSecond() + 3601);
            });
            ConsumerRecord<String, String> record = watcher.await(r -> r.value().contains(buildId), Duration.ofSeconds(10));
            assertThat(record.key()).isEqualTo(created.<String>path("cacheKey"));
            var data = json.readTree(record.value()).path("data");
            assertThat(data.path("commitSha").asText()).isEqualTo(mainSha);
            assertThat(data.path("tenantId").asText()).isEqualTo(tenant);
        }
    }

    @Test
    void tagsAndHeadResolveToTheSameCommitAndKey() {
        String byBranch = submit("{\"repository\":\"file://" + repo + "\",\"ref\":\"main\",\"tool\":\"make\",\"env\":{\"N\":\"1\"}}")
                .path("cacheKey");
        finishActive();
        String byTag = submit("{\"repository\":\"file://" + repo + "\",\"ref\":\"v1\",\"tool\":\"make\",\"env\":{\"N\":\"1\"}}")
                .path("cacheKey");
        finishActive();
        Response byHead = submit("{\"repository\":\"file://" + repo + "\",\"tool\":\"make\",\"env\":{\"N\":\"1\"}}");
        assertThat(byTag).isEqualTo(byBranch);
        assertThat(byHead.<String>path("cacheKey")).isEqualTo(byBranch);
        assertThat(byHead.<String>path("commit")).isEqualTo(mainSha);
    }

    @Test
    void aBuildsKeyIsExplainedAgainstThePreviousBuildOfTheRepository() {
        String first = submit("{\"repository\":\"file://" + repo + "\",\"ref\":\"main\",\"tool\":\"make\",\"env\":{\"N\":\"1\"}}")
                .path("buildId");
        given().auth().oauth2(token).get("/api/v1/builds/" + first + "/key").then().statusCode(200)
                .body("inputs.commit", equalTo(mainSha)).body("inputs.tenant", equalTo(tenant)).body("inputs.env.N", equalTo("1"))
                .body("reproduced", equalTo(true)).body("explanation", containsString("first build of this repository"));
        finishActive();
        String second = submit("{\"repository\":\"file://" + repo + "\",\"ref\":\"main\",\"tool\":\"make\",\"env\":{\"N\":\"2\",\"M\":\"x\"}}")
                .path("buildId");
        given().auth().oauth2(token).get("/api/v1/builds/" + second + "/key").then().statusCode(200)
                .body("comparedWith.buildId", equalTo(first))
                .body("differences.input", org.hamcrest.Matchers.contains("env.M", "env.N"))
                .body("differences[1].thisBuild", equalTo("2")).body("differences[1].previousBuild", equalTo("1"))
                .body("explanation", containsString("a miss: env.M, env.N differ from build " + first));
        finishActive();
        // The same key again, and no recording to hit (no replay-service here): the reason is the recording.
        String third = submit("{\"repository\":\"file://" + repo + "\",\"ref\":\"main\",\"tool\":\"make\",\"env\":{\"N\":\"2\",\"M\":\"x\"}}")
                .path("buildId");
        given().auth().oauth2(token).get("/api/v1/builds/" + third + "/key").then().statusCode(200)
                .body("comparedWith.buildId", equalTo(second)).body("differences", hasSize(0))
                .body("explanation", containsString("had the same key, but its recording is gone"));

        given().auth().oauth2(token(("t-" + UUID.randomUUID()), "read")).get("/api/v1/builds/" + third + "/key").then().statusCode(404);
        given().auth().oauth2(token).get("/api/v1/builds/not-a-build/key").then().statusCode(404).contentType("application/problem+json");
    }

    @Test
    void anIdenticalRequestWhileTheBuildIsActiveAttachesToIt() {
        String body = "{\"repository\":\"file://" + repo + "\",\"ref\":\"main\",\"tool\":\"npm\"}";
        Response first = submit(body);
        Response second = submit(body);
        assertThat(second.<String>path("buildId")).isEqualTo(first.path("buildId"));
        assertThat(second.<Boolean>path("coalesced")).isTrue();
        given().auth().oauth2(token).get("/api/v1/builds?status=QUEUED").then().statusCode(200).body("$", hasSize(1));
    }

    @Test
    void statusFollowsTheRunnersEvents() throws Exception {
        String buildId = submit("{\"repository\":\"file://" + repo + "\",\"tool\":\"make\"}").path("buildId");
        String key = given().auth().oauth2(token).get("/api/v1/builds/" + buildId).path("cacheKey");

        publish(buildId, 1, new BuildStarted(buildId, key, "runner-7", Instant.now(), tenant, "file://r", "a".repeat(40), "make"));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> given().auth().oauth2(token)
                .get("/api/v1/builds/" + buildId).then().body("status", equalTo("RUNNING")));
        publish(buildId, 2, new BuildCompleted(buildId, key, BuildStatus.FAILURE, 2, 1234, "command exited with 2"));
        publish(buildId, 2, new BuildCompleted(buildId, key, BuildStatus.SUCCESS, 0, 1, null)); // a late duplicate changes nothing

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> given().auth().oauth2(token)
                .get("/api/v1/builds/" + buildId).then().body("status", equalTo("FAILURE")));
        given().auth().oauth2(token).get("/api/v1/builds/" + buildId).then()
                .body("exitCode", equalTo(2)).body("durationMs", equalTo(1234)).body("reason", equalTo("command exited with 2"));
        given().auth().oauth2(token).post("/api/v1/builds/" + buildId + "/cancel").then().statusCode(409)
                .body("detail", containsString("already finished (FAILURE)"));
    }

    /** An event PostgreSQL refuses (a NUL byte in a text column) is skipped, not retried for ever ahead of the rest. */
    @Test
    void aStatusEventTheStoreRefusesIsSkippedAndTheEventsBehindItStillApply() throws Exception {
        String buildId = submit("{\"repository\":\"file://" + repo + "\",\"tool\":\"make\",\"command\":\"make poison\"}")
                .path("buildId");
        String key = given().auth().oauth2(token).get("/api/v1/builds/" + buildId).path("cacheKey");

        publish(buildId, 1, new BuildCompleted(buildId, key, BuildStatus.FAILURE, 1, 10, "exit\u0000ed"));
        publish(buildId, 2, new BuildCompleted(buildId, key, BuildStatus.FAILURE, 3, 20, "command exited with 3"));

        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> given().auth().oauth2(token)
                .get("/api/v1/builds/" + buildId).then().body("status", equalTo("FAILURE"))
                .body("exitCode", equalTo(3)).body("reason", equalTo("command exited with 3")));
    }

    @Test
    void anotherTenantsBuildsAreInvisible() {
        String buildId = submit("{\"repository\":\"file://" + repo + "\",\"tool\":\"make\"}").path("buildId");
        String other = token("t-" + UUID.randomUUID(), "read-write");

        given().auth().oauth2(other).get("/api/v1/builds/" + buildId).then().statusCode(404)
                .contentType("application/problem+json");
        given().auth().oauth2(other).post("/api/v1/builds/" + buildId + "/cancel").then().statusCode(404);
        given().auth().oauth2(other).get("/api/v1/builds").then().statusCode(200).body("$", hasSize(0));
        given().auth().oauth2(token).get("/api/v1/builds?repository=file://" + repo + ".git").then().statusCode(200)
                .body("$", hasSize(1)).body("[0].buildId", equalTo(buildId));
    }

    @Test
    void aReadOnlyTokenMayReadButNotBuild() {
        String reader = token(tenant, "read");
        given().auth().oauth2(reader).contentType(ContentType.JSON)
                .body("{\"repository\":\"file://" + repo + "\",\"tool\":\"make\"}").post("/api/v1/builds")
                .then().statusCode(403).body("detail", containsString("read-only"));
        given().auth().oauth2(reader).get("/api/v1/builds").then().statusCode(200);
        given().contentType(ContentType.JSON).body("{}").post("/api/v1/builds").then().statusCode(401);
    }

    @Test
    void theWebUiAndItsBundledAssetsAreServedWithoutACdn() {
        String page = given().get("/").then().statusCode(200).contentType(containsString("text/html")).extract().asString();
        assertThat(page).contains("<title>Reprise</title>", "vendor/xterm.js", "vendor/uPlot.iife.min.js", "app.js")
                .doesNotContain("src=\"http", "href=\"http", "src=\"//", "href=\"//");
        for (String asset : List.of("/app.js", "/app.css", "/vendor/xterm.js", "/vendor/xterm.css", "/vendor/addon-fit.js",
                "/vendor/uPlot.iife.min.js", "/vendor/uPlot.min.css")) {
            given().get(asset).then().statusCode(200);
        }
    }

    @Test
    void invalidatingTheCacheNeedsAWriterAndAValidKeyOrRepository() {
        String reader = token(tenant, "read");
        String key = "a".repeat(64);
        given().delete("/api/v1/cache/" + key).then().statusCode(401);
        given().auth().oauth2(reader).delete("/api/v1/cache/" + key).then().statusCode(403).body("detail", containsString("read-only"));
        given().auth().oauth2(reader).queryParam("repository", "file://" + repo).delete("/api/v1/cache").then().statusCode(403);
        given().auth().oauth2(token).delete("/api/v1/cache/NOT-A-KEY").then().statusCode(400).body("field", equalTo("cacheKey"));
        given().auth().oauth2(token).delete("/api/v1/cache").then().statusCode(400).body("field", equalTo("repository"));
        given().auth().oauth2(token).queryParam("repository", "https://u:secret@x.org/app").delete("/api/v1/cache").then()
                .statusCode(400).body("detail", containsString("credentials")).body("detail", not(containsString("secret")));
        given().get("/api/v1/stats").then().statusCode(401);
        given().auth().oauth2(reader).get("/api/v1/stats?hours=0").then().statusCode(400).body("field", equalTo("hours"));
    }

    @Test
    void badRequestsAre400ProblemsNamingTheField() {
        expect400("{\"repository\":\"file://" + repo + "\",\"ref\":\"no-such-branch\",\"tool\":\"make\"}", "ref", "is not a branch, tag or HEAD");
        expect400("{\"repository\":\"file:///nonexistent/repo\",\"tool\":\"make\"}", "repository", "could not be read");
        expect400("{\"repository\":\"file://" + repo + "\",\"tool\":\"make\",\"extra\":true}", "extra", "is not a field");
        expect400("{\"repository\":", "body", "is not valid JSON");
        given().auth().oauth2(token).get("/api/v1/builds?size=1000").then().statusCode(400).body("field", equalTo("size"));
        given().auth().oauth2(token).get("/api/v1/builds?status=DONE").then().statusCode(400).body("field", equalTo("status"));
        given().auth().oauth2(token).contentType(ContentType.JSON).body("{\"x\":\"" + "a".repeat(70_000) + "\"}")
                .post("/api/v1/builds").then().statusCode(413);
    }

    @Test
    void envThatWouldRunCodeAroundTheBuildIsA400NamingTheVariable() {
        expect400("{\"repository\":\"file://" + repo + "\",\"tool\":\"make\",\"env\":{\"LD_PRELOAD\":\"x\"}}", "env.LD_PRELOAD",
                "env.LD_PRELOAD: variables that change how programs are loaded or started cannot be set");
        expect400("{\"repository\":\"file://" + repo + "\",\"tool\":\"make\",\"env\":{\"N\":\"1\",\"GIT_SSH_COMMAND\":\"x\"}}",
                "env.GIT_SSH_COMMAND", "configure git");
        given().auth().oauth2(token).get("/api/v1/builds").then().statusCode(200).body("$", hasSize(0));
        submit("{\"repository\":\"file://" + repo + "\",\"tool\":\"make\",\"env\":{\"MALLOC_ARENA_MAX\":\"2\"}}");
    }

    // --- helpers ---

    private Response submit(String body) {
        Response response = given().auth().oauth2(token).contentType(ContentType.JSON).body(body).post("/api/v1/builds");
        response.then().statusCode(202);
        return response;
    }

    private void expect400(String body, String field, String problem) {
        given().auth().oauth2(token).contentType(ContentType.JSON).body(body).post("/api/v1/builds").then()
                .statusCode(400).contentType("application/problem+json")
                .body("field", equalTo(field)).body("detail", containsString(problem)).body("status", equalTo(400));
    }

    /** Ends the tenant's active builds so an identical request is a new build, not coalesced. */
    private void finishActive() {
        List<String> ids = given().auth().oauth2(token).get("/api/v1/builds?status=QUEUED").path("buildId");
        for (String id : ids) {
            String key = given().auth().oauth2(token).get("/api/v1/builds/" + id).path("cacheKey");
            try {
                publish(id, 2, new BuildCompleted(id, key, BuildStatus.SUCCESS, 0, 1, null));
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> given().auth().oauth2(token)
                    .get("/api/v1/builds/" + id).then().body("status", equalTo("SUCCESS")));
        }
    }

    private String token(String tenantId, String scope) {
        String secret = ApiTokens.generate();
        tenants.ensureTenant(tenantId, "API test").await().atMost(Duration.ofSeconds(5));
        tenants.ensureToken(tenantId, ApiTokens.hash(secret), "test", scope).await().atMost(Duration.ofSeconds(5));
        return secret;
    }

    private void publish(String buildId, long seq, BuildEvent event) throws Exception {
        try (TestKafkaProducer producer = new TestKafkaProducer(bootstrap, json)) {
            producer.publish(Topics.BUILD_EVENTS, buildId, buildId, seq, event);
        }
    }
}
