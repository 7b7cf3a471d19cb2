package dev.reprise.artifact;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.reprise.artifact.service.AccessRecorder;
import dev.reprise.artifact.service.DependencyStats;
import dev.reprise.events.StreamTickets;
import dev.reprise.testing.RepriseInfrastructure;
import dev.reprise.testing.TestGateway;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.path.json.JsonPath;
import io.restassured.specification.RequestSpecification;
import jakarta.inject.Inject;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The build runners' dependency caches on the {@code deps} door, against real stores: a runner's
 * artifacts ticket for one tenant, provenance kept and answered with a hit, the index's listing
 * by repository, toolchain and lockfile with access counts, and invalidation by toolchain and by
 * lockfile hash removing exactly those entries.
 */
@QuarkusTest
@WithTestResource(value = RepriseInfrastructure.class, initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis,s3"))
@WithTestResource(TestGateway.class)
class DependencyCacheTest {

    /** The stream secret of the test profile (application.properties). */
    private static final StreamTickets TICKETS = new StreamTickets("reprise-test-stream-secret-0123456789");
    private static final String VERSION = "deps-v1-zstd-without-long";
    private static final String REPO = "https://git.example.com/team/app-" + UUID.randomUUID() + ".git";

    @Inject
    AccessRecorder accesses;

    @Inject
    DependencyStats stats;

    @Inject
    io.micrometer.core.instrument.MeterRegistry registry;

    private final String tenant = TestGateway.newTenant();
    private final String token = TestGateway.token(tenant, "read-write");

    private static RequestSpecification as(String ticketOrToken) {
        return given().auth().oauth2(ticketOrToken).header("X-Reprise-Repository", REPO);
    }

    private static String ticket(String tenant) {
        return TICKETS.issue(tenant, StreamTickets.ARTIFACTS, Instant.now().plusSeconds(600));
    }

    @Test
    void aRunnerTicketSavesWithProvenanceAndAHitAnswersWithItForThatTenantOnly() {
        String key = "deps-0123456789abcdef-" + sha("a");
        byte[] archive = ("archive of " + key).getBytes(StandardCharsets.UTF_8);
        save(ticket(tenant), key, archive, "java", "17.0.13", sha("pom-a"), "Fix the build: é");

        JsonPath hit = as(ticket(tenant)).queryParam("key", key).queryParam("version", VERSION).get("/api/v1/deps")
                .then().statusCode(200).body("matchedKey", equalTo(key)).body("exact", equalTo(true)).extract().jsonPath();
        assertThat(hit.getString("provenance.commit")).isEqualTo("a".repeat(40));
        assertThat(hit.getString("provenance.commitMessage")).isEqualTo("Fix the build: é");
        assertThat(hit.getString("provenance.branch")).isEqualTo("main");
        assertThat(hit.getString("provenance.buildId")).isEqualTo("b-1");
        assertThat(hit.getString("provenance.toolchain.java")).isEqualTo("17.0.13");
        assertThat(hit.getLong("provenance.durationMs")).isEqualTo(4200);
        assertThat(as(ticket(tenant)).get(hit.getString("archiveUrl")).then().statusCode(200).extract().asByteArray()).isEqualTo(archive);

        // The tenant's own token sees the same entry; another tenant's ticket, a forged or expired one see nothing.
        as(token).queryParam("key", key).queryParam("version", VERSION).get("/api/v1/deps").then().statusCode(200);
        as(ticket(TestGateway.newTenant())).queryParam("key", key).queryParam("version", VERSION).get("/api/v1/deps").then().statusCode(204);
        as(new StreamTickets("another-secret-0123456789abcdef").issue(tenant, StreamTickets.ARTIFACTS, Instant.now().plusSeconds(60)))
                .queryParam("key", key).queryParam("version", VERSION).get("/api/v1/deps").then().statusCode(401);
        as(TICKETS.issue(tenant, StreamTickets.ARTIFACTS, Instant.now().minusSeconds(5)))
                .queryParam("key", key).queryParam("version", VERSION).get("/api/v1/deps").then().statusCode(401);
        // A stream ticket (a build's live stream) is not an artifacts ticket.
        as(TICKETS.issue(tenant, StreamTickets.build("b-1"), Instant.now().plusSeconds(60)))
                .queryParam("key", key).queryParam("version", VERSION).get("/api/v1/deps").then().statusCode(401);
    }

    @Test
    void theNewestEntryOfTheRepositoryAndToolchainIsAPartialHitAndLookupsAreCountedPerRepository() {
        String prefix = "deps-" + sha("scope").substring(0, 16) + "-";
        save(ticket(tenant), prefix + sha("old"), new byte[] {1}, "node", "20.11.1", sha("lock-old"), "old");
        save(ticket(tenant), prefix + sha("new"), new byte[] {2}, "node", "20.11.1", sha("lock-new"), "new");
        double before = partials();

        as(ticket(tenant)).queryParam("key", prefix + sha("changed")).queryParam("version", VERSION).queryParam("restoreKeys", prefix)
                .get("/api/v1/deps").then().statusCode(200).body("matchedKey", equalTo(prefix + sha("new"))).body("exact", equalTo(false))
                .body("provenance.commitMessage", equalTo("new"));
        as(ticket(tenant)).queryParam("key", "deps-ffffffffffffffff-" + sha("x")).queryParam("version", VERSION)
                .queryParam("restoreKeys", "deps-ffffffffffffffff-").get("/api/v1/deps").then().statusCode(204);

        assertThat(partials()).isEqualTo(before + 1);
        DependencyStats.Row row = stats.rows().stream().filter(r -> r.repository().equals(normalized())).findFirst().orElseThrow();
        assertThat(row.partials()).isEqualTo(1);
        assertThat(row.misses()).isEqualTo(1);
        assertThat(row.hitRatio()).isEqualTo(0.5);
    }

    @Test
    void entriesAreListedByRepositoryToolchainAndLockfileWithAccessCountsAndInvalidatedByToolchainOrLockfile() {
        String node20 = "deps-aaaaaaaaaaaaaaaa-" + sha("n20");
        String node18 = "deps-bbbbbbbbbbbbbbbb-" + sha("n18");
        String maven = "deps-cccccccccccccccc-" + sha("mvn");
        save(ticket(tenant), node20, new byte[] {20}, "node", "20.11.1", sha("lock-1"), "node 20");
        save(ticket(tenant), node18, new byte[] {18}, "node", "18.19.0", sha("lock-1"), "node 18");
        save(ticket(tenant), maven, new byte[] {17}, "java", "17.0.13", sha("lock-2"), "maven");
        for (int i = 0; i < 3; i++) {
            String url = as(token).queryParam("key", maven).queryParam("version", VERSION).get("/api/v1/deps").jsonPath().getString("archiveUrl");
            as(token).get(url).then().statusCode(200);
        }
        accesses.flush().await().indefinitely();

        JsonPath popular = as(token).queryParam("protocol", "deps").queryParam("sort", "accessed").get("/api/v1/artifacts/entries")
                .then().statusCode(200).extract().jsonPath();
        assertThat(popular.getString("entries[0].key")).isEqualTo(maven);
        assertThat(popular.getLong("entries[0].accessCount")).isEqualTo(3);
        assertThat(popular.getString("entries[0].provenance.commitMessage")).isEqualTo("maven");
        assertThat(popular.getString("entries[0].toolchain.java")).isEqualTo("17.0.13");
        assertThat(keys(as(token).queryParam("toolchain", "node").get("/api/v1/artifacts/entries"))).containsExactlyInAnyOrder(node20, node18);
        assertThat(keys(as(token).queryParam("toolchain", "node@18.19.0").get("/api/v1/artifacts/entries"))).containsExactly(node18);
        assertThat(keys(as(token).queryParam("lockfile", sha("lock-1")).get("/api/v1/artifacts/entries")))
                .containsExactlyInAnyOrder(node20, node18);
        assertThat(keys(as(token).queryParam("repository", REPO.replace("git.example.com", "GIT.Example.com").replace(".git", "")).get("/api/v1/artifacts/entries")))
                .as("any spelling of the repository").hasSize(3);

        as(token).queryParam("toolchain", "node@18.19.0").delete("/api/v1/artifacts/entries").then().statusCode(200)
                .body("scope", equalTo("toolchain")).body("removed", equalTo(1));
        assertThat(keys(as(token).queryParam("protocol", "deps").get("/api/v1/artifacts/entries"))).containsExactlyInAnyOrder(node20, maven);
        as(token).queryParam("lockfile", sha("lock-2")).delete("/api/v1/artifacts/entries").then().statusCode(200)
                .body("scope", equalTo("lockfile")).body("removed", equalTo(1));
        assertThat(keys(as(token).queryParam("protocol", "deps").get("/api/v1/artifacts/entries"))).containsExactly(node20);
        as(token).queryParam("key", maven).queryParam("version", VERSION).get("/api/v1/deps").then().statusCode(204);
    }

    @Test
    void badProvenanceAndBadFiltersAreRefusedWithWhatToFix() {
        String key = "deps-dddddddddddddddd-" + sha("bad");
        as(token).queryParam("key", key).queryParam("version", VERSION).header("X-Reprise-Lockfile-Hash", "not-a-hash")
                .body(new byte[] {1}).put("/api/v1/deps").then().statusCode(400).body("detail", containsString("X-Reprise-Lockfile-Hash"));
        as(token).queryParam("key", key).queryParam("version", VERSION).header("X-Reprise-Toolchain", "{\"node\": 20}")
                .body(new byte[] {1}).put("/api/v1/deps").then().statusCode(400).body("detail", containsString("must be a string"));
        as(token).queryParam("key", key).queryParam("version", VERSION).get("/api/v1/deps").then().statusCode(204);
        as(token).queryParam("toolchain", "node@@1").get("/api/v1/artifacts/entries").then().statusCode(400)
                .body("detail", containsString("tool@version"));
        as(token).queryParam("lockfile", "abc").delete("/api/v1/artifacts/entries").then().statusCode(400)
                .body("detail", containsString("lockfile"));
        as(token).queryParam("sort", "size").get("/api/v1/artifacts/entries").then().statusCode(400)
                .body("detail", containsString("newest or accessed"));
    }

    // --- helpers ---

    private static void save(String credential, String key, byte[] archive, String tool, String version, String lockfile, String message) {
        as(credential).queryParam("key", key).queryParam("version", VERSION)
                .header("X-Reprise-Commit", "a".repeat(40)).header("X-Reprise-Branch", "main").header("X-Reprise-Build-Id", "b-1")
                .header("X-Reprise-Commit-Message", java.net.URLEncoder.encode(message, StandardCharsets.UTF_8).replace("+", "%20"))
                .header("X-Reprise-Toolchain", "{\"" + tool + "\":\"" + version + "\"}").header("X-Reprise-Duration-Ms", "4200")
                .header("X-Reprise-Lockfile-Hash", lockfile).header("X-Reprise-Dependency-Digests", "{}")
                .body(archive).put("/api/v1/deps").then().statusCode(201).body("key", equalTo(key));
    }

    private static List<String> keys(io.restassured.response.Response listing) {
        return listing.then().statusCode(200).extract().jsonPath().<Map<String, Object>>getList("entries").stream()
                .map(e -> (String) e.get("key")).toList();
    }

    private double partials() {
        return registry.find("reprise_artifact_dependency_lookups_total")
                .tag("result", "partial").counters().stream().mapToDouble(io.micrometer.core.instrument.Counter::count).sum();
    }

    private static String normalized() {
        return dev.reprise.events.RepositoryUrl.parse(REPO).normalized();
    }

    private static String sha(String text) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
