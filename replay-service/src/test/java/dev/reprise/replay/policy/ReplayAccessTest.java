package dev.reprise.replay.policy;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reprise.events.StreamTickets;
import dev.reprise.replay.TestAccess;
import dev.reprise.replay.store.RecordingIndex;
import dev.reprise.replay.store.RecordingObjects;
import dev.reprise.testing.RecordingWebSocket;
import dev.reprise.testing.RepriseInfrastructure;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.common.http.TestHTTPResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * replay-service holds every tenant's streams: only the gateway (service token) reaches its API,
 * and a client opens exactly the stream its gateway ticket names, for its own tenant.
 */
@QuarkusTest
@WithTestResource(value = RepriseInfrastructure.class, initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis,s3"))
class ReplayAccessTest {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private final HttpClient http = HttpClient.newHttpClient();

    @Inject
    RecordingIndex index;
    @Inject
    RecordingObjects objects;
    @Inject
    ObjectMapper json;
    @TestHTTPResource("/")
    URI base;

    @Test
    void theInternalApiAnswersOnlyTheGateway() throws Exception {
        String key = stored("team-a");
        for (String path : new String[] {"/api/v1/recordings/" + key + "?tenant=team-a", "/api/v1/recordings/" + key + "/messages",
                "/api/v1/stats?tenant=team-a"}) {
            HttpResponse<String> anonymous = get(path, null);
            assertThat(anonymous.statusCode()).as(path).isEqualTo(401);
            assertThat(anonymous.body()).contains("internal API").contains(StreamTickets.SERVICE_HEADER);
            assertThat(get(path, "0".repeat(64)).statusCode()).as("a wrong service token: " + path).isEqualTo(401);
            assertThat(get(path, TestAccess.TICKETS.serviceToken()).statusCode()).as(path).isEqualTo(200);
        }
        HttpResponse<String> delete = http.send(HttpRequest.newBuilder(base.resolve("/api/v1/recordings/" + key)).DELETE().build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(delete.statusCode()).as("no one but the gateway invalidates").isEqualTo(401);
        assertThat(index.byCacheKey(key).await().atMost(WAIT)).isPresent();
    }

    @Test
    void aTicketReadsItsOwnTenantsRecordingOfItsKeyOnly() throws Exception {
        String key = stored("team-a");
        String other = stored("team-a");
        assertThat(get("/api/v1/recordings/" + key + "/messages?ticket=" + TestAccess.ticket("team-a", StreamTickets.key(key)), null)
                .statusCode()).isEqualTo(200);
        assertThat(get("/api/v1/recordings/" + key + "/recording.cast?ticket=" + TestAccess.ticket("team-a", StreamTickets.key(key)), null)
                .statusCode()).isEqualTo(200);
        // Another tenant's ticket for the same key: as if there were no recording.
        assertThat(get("/api/v1/recordings/" + key + "/messages?ticket=" + TestAccess.ticket("team-b", StreamTickets.key(key)), null)
                .statusCode()).isEqualTo(404);
        // A ticket for another key, a forged one, an expired one, and ?tenant= cannot widen a ticket.
        assertThat(get("/api/v1/recordings/" + key + "/messages?ticket=" + TestAccess.ticket("team-a", StreamTickets.key(other)), null)
                .statusCode()).isEqualTo(401);
        String forged = new StreamTickets("someone-elses-secret-0123").issue("team-a", StreamTickets.key(key), Instant.now().plusSeconds(60));
        assertThat(get("/api/v1/recordings/" + key + "/messages?ticket=" + forged, null).statusCode()).isEqualTo(401);
        String expired = TestAccess.TICKETS.issue("team-a", StreamTickets.key(key), Instant.now().minusSeconds(1));
        assertThat(get("/api/v1/recordings/" + key + "/messages?ticket=" + expired, null).statusCode()).isEqualTo(401);
        assertThat(get("/api/v1/recordings/" + key + "/messages?tenant=team-a&ticket=" + TestAccess.ticket("team-b", StreamTickets.key(key)),
                null).statusCode()).isEqualTo(404);
        // An empty ticket is no ticket: it does not fall back to "any tenant".
        assertThat(get("/api/v1/recordings/" + key + "/messages?ticket=", null).statusCode()).isEqualTo(401);
        assertThat(get("/api/v1/recordings/" + key + "/recording.cast?ticket=&tenant=team-a", null).statusCode()).isEqualTo(401);
        // A tenant the index could not hold is refused before it reaches PostgreSQL.
        assertThat(get("/api/v1/stats?tenant=a%00b", TestAccess.TICKETS.serviceToken()).statusCode()).isEqualTo(400);
    }

    @Test
    void aSocketOpensOnlyWithATicketForItsStreamAndTenant() throws Exception {
        String key = stored("team-a");
        String plain = base.resolve("/ws/recordings/" + key + "?speed=0").toString().replaceFirst("^http", "ws");
        assertThat(RecordingWebSocket.open(plain).awaitClose(WAIT)).as("no ticket").isEqualTo(4401);
        String otherKey = TestAccess.ws(base, "/ws/recordings/" + key + "?speed=0", "team-a", StreamTickets.key("f".repeat(64)));
        assertThat(RecordingWebSocket.open(otherKey).awaitClose(WAIT)).as("another key's ticket").isEqualTo(4401);
        assertThat(RecordingWebSocket.open(TestAccess.replay(base, key, "speed=0", "team-b")).awaitClose(WAIT))
                .as("another tenant's ticket").isEqualTo(4404);
        RecordingWebSocket own = RecordingWebSocket.open(TestAccess.replay(base, key, "speed=0", "team-a"));
        assertThat(own.awaitClose(WAIT)).isEqualTo(1000);
        assertThat(own.messages()).hasSize(6);

        String build = UUID.randomUUID().toString();
        String live = base.resolve("/ws/builds/" + build).toString().replaceFirst("^http", "ws");
        assertThat(RecordingWebSocket.open(live).awaitClose(WAIT)).as("no ticket").isEqualTo(4401);
        assertThat(RecordingWebSocket.open(TestAccess.ws(base, "/ws/builds/" + build, "team-a",
                StreamTickets.build(UUID.randomUUID().toString()))).awaitClose(WAIT)).as("another build's ticket").isEqualTo(4401);
        assertThat(RecordingWebSocket.open(TestAccess.ws(base, "/ws/builds/" + build, "team-a", StreamTickets.key(key)))
                .awaitClose(WAIT)).as("a key's ticket for a build").isEqualTo(4401);
    }

    private String stored(String tenant) {
        String key = UUID.randomUUID().toString().replace("-", "") + "0".repeat(32);
        TestRecordings.store(index, objects, json, key, UUID.randomUUID().toString(), tenant, "file:///srv/access", 100);
        return key;
    }

    private HttpResponse<String> get(String path, String serviceToken) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(base.resolve(path)).timeout(WAIT);
        if (serviceToken != null) {
            request.header(StreamTickets.SERVICE_HEADER, serviceToken);
        }
        return http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }
}
