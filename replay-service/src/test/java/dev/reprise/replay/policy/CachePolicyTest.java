package dev.reprise.replay.policy;

import dev.reprise.replay.TestAccess;
import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItem;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reprise.events.Topics;
import dev.reprise.replay.record.Recording;
import dev.reprise.replay.store.RecordingIndex;
import dev.reprise.replay.store.RecordingObjects;
import dev.reprise.testing.KafkaTopicWatcher;
import dev.reprise.testing.RecordingWebSocket;
import dev.reprise.testing.RepriseInfrastructure;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.inject.Inject;
import java.net.URI;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/** The cache policy against the real index (PostgreSQL), bucket (S3) and cache-events topic (Kafka). */
@QuarkusTest
@WithTestResource(value = RepriseInfrastructure.class, initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis,s3"))
class CachePolicyTest {

    static {
        // Every REST call here is one the gateway makes: with the service token.
        TestAccess.asTheGateway();
    }

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Inject
    RecordingIndex index;
    @Inject
    RecordingObjects objects;
    @Inject
    CacheRemovals removals;
    @Inject
    dev.reprise.replay.store.ReadCounter reads;
    @Inject
    Pool pool;
    @Inject
    ObjectMapper json;
    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;
    @TestHTTPResource("/")
    URI base;

    @Test
    void readsOfAReplacedRecordingNeverLandOnItsReplacement() {
        String tenant = tenant();
        String key = stored(tenant, "file:///srv/app", 100);
        String old = buildOf(key);
        // Lookups that found the old recording, then a fresh build's recording replaces it, then
        // those lookups' reads are counted (or a flush that drained them writes them) late.
        TestRecordings.store(index, objects, json, key, UUID.randomUUID().toString(), tenant, "file:///srv/app", 100);
        for (int i = 0; i < 3; i++) {
            reads.read(key, old);
        }
        reads.flush().await().atMost(WAIT);
        assertThat(column(key, "access_count")).as("the new recording's reads").isEqualTo(0L);
        given().get("/api/v1/recordings/" + key + "?tenant=" + tenant).then().statusCode(200).body("reads", equalTo(1));
    }

    @Test
    void aLookupCountsAReadAndAnExpiredEntryIsNeverAHit() throws Exception {
        String tenant = tenant();
        String live = stored(tenant, "file:///srv/app", 1200);
        String expired = stored(tenant, "file:///srv/app", 1200);
        set(expired, "expires_at = now() - interval '1 second'");

        given().get("/api/v1/recordings/" + live + "?tenant=" + tenant).then().statusCode(200).body("reads", equalTo(1));
        given().get("/api/v1/recordings/" + live + "?tenant=" + tenant).then().statusCode(200).body("reads", equalTo(2))
                .body("label", equalTo("Fresh")).body("stale", equalTo(false));
        reads.flush().await().atMost(WAIT);
        assertThat(column(live, "last_access_at")).isNotNull();
        assertThat(column(live, "access_count")).isEqualTo(2L);
        given().get("/api/v1/recordings/" + live + "?tenant=" + tenant).then().statusCode(200).body("reads", equalTo(3));
        given().get("/api/v1/recordings/" + expired + "?tenant=" + tenant).then().statusCode(404);
        assertThat(column(expired, "access_count")).isEqualTo(0L);
        RecordingWebSocket socket = RecordingWebSocket.open(TestAccess.replay(base, expired, "speed=0", tenant));
        assertThat(close(socket)).as("an expired recording is not replayed").isEqualTo(4404);
    }

    @Test
    void evictionTakesExpiredAndOldRarelyReadEntriesAndKeepsPopularAndRecentOnes() throws Exception {
        String tenant = tenant();
        String expired = stored(tenant, "file:///srv/app", 10);
        set(expired, "expires_at = now() - interval '1 minute'");
        String rarelyRead = stored(tenant, "file:///srv/app", 10);
        set(rarelyRead, "created_at = now() - interval '40 days', access_count = 4, last_access_at = now() - interval '31 days'");
        String neverRead = stored(tenant, "file:///srv/app", 10);
        set(neverRead, "created_at = now() - interval '31 days'");
        String popular = stored(tenant, "file:///srv/app", 10);
        set(popular, "created_at = now() - interval '40 days', access_count = 5, last_access_at = now() - interval '31 days'");
        String readLately = stored(tenant, "file:///srv/app", 10);
        set(readLately, "created_at = now() - interval '40 days', access_count = 1, last_access_at = now() - interval '29 days'");
        String young = stored(tenant, "file:///srv/app", 10);

        try (KafkaTopicWatcher events = new KafkaTopicWatcher(bootstrap, Topics.CACHE_EVENTS)) {
            assertThat(removals.sweep().await().atMost(WAIT)).isGreaterThanOrEqualTo(3);
            List<ConsumerRecord<String, String>> evicted = events.awaitEach(List.of(evicted(expired, "expired"),
                    evicted(rarelyRead, "unused"), evicted(neverRead, "unused")), WAIT);
            assertThat(evicted).hasSize(3);
        }
        for (String gone : List.of(expired, rarelyRead, neverRead)) {
            assertThat(index.byBuildId(buildOf(gone)).await().atMost(WAIT)).as("index row of " + gone).isEmpty();
            assertThatThrownBy(() -> objects.get(RecordingObjects.keyFor(gone, buildOf(gone))).await().atMost(WAIT))
                    .as("object of " + gone).hasMessageContaining("404");
        }
        for (String kept : List.of(popular, readLately, young)) {
            assertThat(index.byCacheKey(kept).await().atMost(WAIT)).as("index row of " + kept).isPresent();
            assertThat(objects.get(RecordingObjects.keyFor(kept, buildOf(kept))).await().atMost(WAIT)).isNotEmpty();
        }
        // The evictions are counted as their cache events come back (asynchronously): wait for them, then hold to 3.
        org.awaitility.Awaitility.await().atMost(WAIT).pollInterval(Duration.ofMillis(200)).untilAsserted(() ->
                given().get("/api/v1/stats?tenant=" + tenant).then().statusCode(200).body("evictions", equalTo(3))
                        .body("recordings", equalTo(3)));
    }

    @Test
    void invalidationByRepositoryMatchesEverySpellingAndStaysInsideTheTenant() throws Exception {
        String tenant = tenant();
        String other = tenant();
        String a = stored(tenant, "https://git.example.org/team/app.git", 10);
        String b = stored(tenant, "https://git.example.org/team/app", 10);
        String otherTenants = stored(other, "https://git.example.org/team/app", 10);
        String otherRepo = stored(tenant, "https://git.example.org/team/lib", 10);

        try (KafkaTopicWatcher events = new KafkaTopicWatcher(bootstrap, Topics.CACHE_EVENTS)) {
            given().queryParam("repository", "HTTPS://Git.Example.org/team/app.git/").queryParam("tenant", tenant)
                    .queryParam("reason", "bad toolchain").delete("/api/v1/recordings")
                    .then().statusCode(200).body("removed", equalTo(2)).body("value", equalTo("https://git.example.org/team/app"));
            JsonNode event = json.readTree(events.await(r -> r.value().contains("cache.invalidated"), WAIT).value());
            assertThat(event.path("data").path("scope").asText()).isEqualTo("repository");
            assertThat(event.path("data").path("entries").asLong()).isEqualTo(2);
            assertThat(event.path("data").path("reason").asText()).isEqualTo("bad toolchain");
        }
        given().get("/api/v1/recordings/" + a + "?tenant=" + tenant).then().statusCode(404);
        given().get("/api/v1/recordings/" + b + "?tenant=" + tenant).then().statusCode(404);
        assertThatThrownBy(() -> objects.get(RecordingObjects.keyFor(a, buildOf(a))).await().atMost(WAIT)).hasMessageContaining("404");
        given().get("/api/v1/recordings/" + otherTenants + "?tenant=" + other).then().statusCode(200);
        given().get("/api/v1/recordings/" + otherRepo + "?tenant=" + tenant).then().statusCode(200);

        // By key: another tenant cannot, the owner can, once.
        given().delete("/api/v1/recordings/" + otherRepo + "?tenant=" + other).then().statusCode(404);
        given().delete("/api/v1/recordings/" + otherRepo + "?tenant=" + tenant).then().statusCode(200).body("removed", equalTo(1));
        given().delete("/api/v1/recordings/" + otherRepo + "?tenant=" + tenant).then().statusCode(404);
        given().get("/api/v1/recordings/" + otherRepo + "?tenant=" + tenant).then().statusCode(404);

        given().queryParam("repository", "http://x.org/app").delete("/api/v1/recordings").then().statusCode(400)
                .body("detail", containsString("repository: must use https://"));
        given().delete("/api/v1/recordings/not-a-key").then().statusCode(400).body("detail", containsString("64 lowercase hex"));
    }

    @Test
    void onlyOldPopularEntriesAreServedStaleForABackgroundRefresh() {
        String tenant = tenant();
        String oldPopular = stored(tenant, "file:///srv/app", 10);
        set(oldPopular, "created_at = now() - interval '8 days', access_count = 4");
        String oldRare = stored(tenant, "file:///srv/app", 10);
        set(oldRare, "created_at = now() - interval '8 days'");
        String youngPopular = stored(tenant, "file:///srv/app", 10);
        set(youngPopular, "created_at = now() - interval '6 days', access_count = 50");

        given().get("/api/v1/recordings/" + oldPopular + "?tenant=" + tenant).then().statusCode(200)
                .body("stale", equalTo(true)).body("label", equalTo("Cached")).body("reads", equalTo(5));
        given().get("/api/v1/recordings/" + oldRare + "?tenant=" + tenant).then().statusCode(200).body("stale", equalTo(false));
        given().get("/api/v1/recordings/" + youngPopular + "?tenant=" + tenant).then().statusCode(200).body("stale", equalTo(false));
        given().get("/api/v1/stats?tenant=" + tenant).then().statusCode(200).body("staleHits", equalTo(1)).body("hits", equalTo(3));
    }

    @Test
    void statsCountHitsMissesAndWhatTheHitsSaved() {
        String tenant = tenant();
        String key = stored(tenant, "file:///srv/app", 2000);
        for (int i = 0; i < 3; i++) {
            given().get("/api/v1/recordings/" + key + "?tenant=" + tenant).then().statusCode(200);
        }
        given().get("/api/v1/recordings/" + "f".repeat(64) + "?tenant=" + tenant).then().statusCode(404);

        // 3 hits of a 2 s build: 3 x 0.002 per build + 6 s x 0.0001 per second.
        given().get("/api/v1/stats?tenant=" + tenant + "&hours=2").then().statusCode(200)
                .body("hits", equalTo(3)).body("misses", equalTo(1)).body("hitRate", equalTo(0.75f))
                .body("timeSavedSeconds", equalTo(6.0f)).body("moneySaved", equalTo(0.0066f))
                .body("costModel.currency", equalTo("USD")).body("recordings", equalTo(1))
                .body("series[-1].hits", equalTo(3)).body("mostReplayed[0].cacheKey", equalTo(key))
                .body("mostReplayed[0].reads", equalTo(3)).body("mostReplayed[0].lastAccessAt", org.hamcrest.Matchers.notNullValue())
                // Every hour of the window, the quiet one as zeros, oldest first, one hour apart.
                .body("series.size()", equalTo(2)).body("series[0].hits", equalTo(0)).body("series[0].misses", equalTo(0));
        io.restassured.path.json.JsonPath day = given().get("/api/v1/stats?tenant=" + tenant()).then().statusCode(200)
                .body("series.size()", equalTo(24)).body("hits", equalTo(0)).extract().jsonPath();
        java.time.OffsetDateTime first = java.time.OffsetDateTime.parse(day.getString("series[0].hour"));
        java.time.OffsetDateTime last = java.time.OffsetDateTime.parse(day.getString("series[23].hour"));
        assertThat(java.time.Duration.between(first, last)).isEqualTo(java.time.Duration.ofHours(23));
        assertThat(last).isAfter(java.time.OffsetDateTime.now().minusHours(1));
        given().get("/api/v1/stats?hours=0").then().statusCode(400).body("detail", containsString("hours"));
        given().get("/q/metrics").then().statusCode(200)
                .body(containsString("reprise_cache_requests_total{cache=\"recording\",result=\"hit\"}"))
                .body(containsString("reprise_cache_saved_seconds_total"));
    }

    @Test
    void mostReplayedListsTheTwentyMostReadWithTheirLastAccess() {
        String tenant = tenant();
        List<String> keys = new java.util.ArrayList<>();
        for (int i = 0; i < 22; i++) {
            keys.add(stored(tenant, "file:///srv/popular-" + i, 1000));
        }
        // The last key read most: 2 reads; every other once.
        for (String key : keys) {
            given().get("/api/v1/recordings/" + key + "?tenant=" + tenant).then().statusCode(200);
        }
        given().get("/api/v1/recordings/" + keys.get(21) + "?tenant=" + tenant).then().statusCode(200);
        io.restassured.path.json.JsonPath stats = given().get("/api/v1/stats?tenant=" + tenant).then().statusCode(200)
                .body("mostReplayed.size()", equalTo(20)).body("mostReplayed[0].cacheKey", equalTo(keys.get(21)))
                .body("mostReplayed[0].reads", equalTo(2)).extract().jsonPath();
        java.time.OffsetDateTime last = java.time.OffsetDateTime.parse(stats.getString("mostReplayed[0].lastAccessAt"));
        assertThat(last).isBetween(java.time.OffsetDateTime.now().minusMinutes(5), java.time.OffsetDateTime.now().plusMinutes(1));
    }

    @Test
    void aReplayCanStartAtAStepAndBeStreamedAsAsciicast() throws Exception {
        String tenant = tenant();
        String key = stored(tenant, "file:///srv/app", 300);
        Recording recording = Recording.fromGzip(objects.get(RecordingObjects.keyFor(key, buildOf(key))).await().atMost(WAIT), json);

        RecordingWebSocket fromBuild = RecordingWebSocket.open(TestAccess.replay(base, key, "speed=0&step=build", tenant));
        assertThat(close(fromBuild)).isEqualTo(1000);
        assertThat(fromBuild.messages()).isEqualTo(messages(recording).subList(3, 6));
        RecordingWebSocket byNumber = RecordingWebSocket.open(TestAccess.replay(base, key, "speed=0&step=2", tenant));
        assertThat(close(byNumber)).isEqualTo(1000);
        assertThat(byNumber.messages()).isEqualTo(fromBuild.messages());

        RecordingWebSocket unknown = RecordingWebSocket.open(TestAccess.replay(base, key, "step=deploy", tenant));
        assertThat(close(unknown)).isEqualTo(1008);
        RecordingWebSocket typo = RecordingWebSocket.open(TestAccess.replay(base, key, "sped=2", tenant));
        assertThat(close(typo)).isEqualTo(1008);

        RecordingWebSocket cast = RecordingWebSocket.open(TestAccess.replay(base, key, "speed=0", tenant), "v2.asciicast");
        assertThat(close(cast)).isEqualTo(1000);
        assertThat(cast.subprotocol()).isEqualTo("v2.asciicast");
        assertThat(json.readTree(cast.messages().get(0)).path("version").asInt()).isEqualTo(2);
        assertThat(cast.messages()).contains("[0.0,\"m\",\"checkout\"]").anyMatch(m -> m.contains("compiling\\r\\n"));

        String file = given().get("/api/v1/recordings/" + key + "/recording.cast?tenant=" + tenant).then().statusCode(200)
                .contentType(containsString("application/x-asciicast")).extract().asString();
        assertThat(file.lines().toList()).isEqualTo(cast.messages());
        given().get("/api/v1/recordings/" + key + "/recording.cast?tenant=" + tenant()).then().statusCode(404);
        given().get("/api/v1/recordings/" + key + "/messages?tenant=" + tenant).then().statusCode(200)
                .body(equalTo(String.join("\n", messages(recording)) + "\n"));
        given().get("/q/metrics").then().body(containsString("reprise_replay_replays_total"));
    }

    // --- helpers ---

    private final List<String> built = new ArrayList<>();

    private static String tenant() {
        return "t-" + UUID.randomUUID();
    }

    @Test
    void overTheStorageBudgetTheRecordingsSavingTheLeastBuildTimePerByteGoFirst() throws Exception {
        String tenant = tenant();
        // Recordings of builds that took no time save nothing: the least valuable, the longest unread first.
        String oldest = stored(tenant, "file:///srv/budget", 0);
        set(oldest, "created_at = now() - interval '30 years', last_access_at = NULL");
        String older = stored(tenant, "file:///srv/budget", 0);
        set(older, "created_at = now() - interval '29 years', last_access_at = NULL");
        String valuable = stored(tenant, "file:///srv/budget", 600_000);
        set(valuable, "created_at = now() - interval '30 years', access_count = 40, last_access_at = now() - interval '29 years'");
        long cheapBytes = (Long) column(oldest, "bytes") + (Long) column(older, "bytes");

        assertThat(removals.fitBudget(Long.MAX_VALUE).await().atMost(WAIT)).as("a store within its budget loses nothing").isZero();
        try (KafkaTopicWatcher events = new KafkaTopicWatcher(bootstrap, Topics.CACHE_EVENTS)) {
            long total = index.totals(null).await().atMost(WAIT)[1];
            assertThat(removals.fitBudget(total - cheapBytes).await().atMost(WAIT)).isEqualTo(2);
            events.awaitEach(List.of(evicted(oldest, "budget"), evicted(older, "budget")), WAIT);
        }
        assertThat(index.byCacheKey(oldest).await().atMost(WAIT)).isEmpty();
        assertThat(index.byCacheKey(older).await().atMost(WAIT)).isEmpty();
        assertThat(index.byCacheKey(valuable).await().atMost(WAIT)).as("the old but much-replayed, long build stays").isPresent();
        assertThatThrownBy(() -> objects.get(RecordingObjects.keyFor(oldest, buildOf(oldest))).await().atMost(WAIT))
                .hasMessageContaining("404");
    }

    @Test
    void anOperatorsPurgeTakesOutEveryTenantsRecordings() throws Exception {
        String one = stored(tenant(), "file:///srv/purge-a", 10);
        String other = stored(tenant(), "file:///srv/purge-b", 10);
        given().noFilters().delete("/api/v1/admin/recordings").then().statusCode(401).contentType("application/problem+json");
        assertThat(index.byCacheKey(one).await().atMost(WAIT)).as("refused: nothing removed").isPresent();

        try (KafkaTopicWatcher events = new KafkaTopicWatcher(bootstrap, Topics.CACHE_EVENTS)) {
            given().queryParam("reason", "runner image 2").delete("/api/v1/admin/recordings").then().statusCode(200)
                    .body("scope", equalTo("all")).body("removed", org.hamcrest.Matchers.greaterThanOrEqualTo(2));
            events.await(r -> r.value().contains("cache.invalidated") && r.value().contains("\"ALL\"")
                    && r.value().contains("runner image 2"), WAIT);
        }
        for (String gone : List.of(one, other)) {
            assertThat(index.byCacheKey(gone).await().atMost(WAIT)).as("index row of " + gone).isEmpty();
            assertThatThrownBy(() -> objects.get(RecordingObjects.keyFor(gone, buildOf(gone))).await().atMost(WAIT))
                    .hasMessageContaining("404");
        }
    }

    /** A recording of a two-step build, stored and indexed like the recorder does. */
    private String stored(String tenant, String repository, long durationMs) {
        String key = UUID.randomUUID().toString().replace("-", "") + "0".repeat(32);
        String buildId = UUID.randomUUID().toString();
        TestRecordings.store(index, objects, json, key, buildId, tenant, repository, durationMs);
        built.add(key + ":" + buildId);
        return key;
    }

    private String buildOf(String key) {
        return built.stream().filter(k -> k.startsWith(key + ":")).findFirst().orElseThrow().substring(65);
    }

    private static List<String> messages(Recording recording) {
        return recording.frames().stream().map(Recording.Frame::message).toList();
    }

    private void set(String key, String assignments) {
        pool.preparedQuery("UPDATE recordings SET " + assignments + " WHERE cache_key = $1").execute(Tuple.of(key))
                .await().atMost(WAIT);
    }

    private Object column(String key, String column) {
        return pool.preparedQuery("SELECT " + column + " FROM recordings WHERE cache_key = $1").execute(Tuple.of(key))
                .await().atMost(WAIT).iterator().next().getValue(column);
    }

    private static Predicate<ConsumerRecord<String, String>> evicted(String key, String reason) {
        return r -> key.equals(r.key()) && r.value().contains("cache.evicted") && r.value().contains("\"" + reason + "\"");
    }

    private static int close(RecordingWebSocket socket) throws Exception {
        return socket.awaitClose(WAIT);
    }

}
