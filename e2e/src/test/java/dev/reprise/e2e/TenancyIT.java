package dev.reprise.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reprise.e2e.Services.Answer;
import dev.reprise.events.StreamTickets;
import dev.reprise.testing.RecordingWebSocket;
import dev.reprise.testing.TestGitRepo;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Two tenants on one Reprise: tenant A (the development tenant) builds, records and stores
 * artifacts; tenant B, with a valid token of its own, tries every endpoint of the README on A's
 * data and gets 404 (or its own, empty, view), and A's data is untouched afterwards.
 */
class TenancyIT {

    private static final Duration WAIT = Duration.ofSeconds(30);
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static String tokenB;
    private static Builds.Recorded a;
    private static String repoA;
    private static JsonNode statsOfB;

    @BeforeAll
    static void twoTenants() throws Exception {
        String tenant = Services.newTenant("tenancy", "Tenancy B");
        tokenB = Services.newToken(tenant, "read-write");
        assertThat(as(tokenB, "GET", 8080, "/api/v1/whoami", null).body()).contains(tenant);

        repoA = TestGitRepo.withBuildScript("echo tenant A secret output " + UUID.randomUUID()).url();
        a = Builds.recorded(repoA, "./build.sh", Map.of());
        JsonNode hit = Builds.request(repoA, "./build.sh", Map.of());
        assertThat(hit.path("cached").asBoolean()).as("A's second request is a hit").isTrue();
        statsOfB = Services.JSON.readTree(as(tokenB, "GET", 8080, "/api/v1/stats?hours=1", null).body());
    }

    @Test
    void theBuildApiShowsATenantOnlyItsOwnBuildsAndCache() throws Exception {
        String id = a.buildId();
        assertThat(as(tokenB, "GET", 8080, "/api/v1/builds/" + id, null).statusCode()).isEqualTo(404);
        assertThat(as(tokenB, "POST", 8080, "/api/v1/builds/" + id + "/cancel", "").statusCode()).isEqualTo(404);
        assertThat(as(tokenB, "GET", 8080, "/api/v1/builds?size=200", null).body()).doesNotContain(id);
        assertThat(as(tokenB, "GET", 8080, "/api/v1/builds?repository=" + enc(repoA), null).body()).doesNotContain(id);
        assertThat(as(tokenB, "DELETE", 8080, "/api/v1/cache/" + a.cacheKey(), null).statusCode()).isEqualTo(404);
        HttpResponse<String> byRepo = as(tokenB, "DELETE", 8080, "/api/v1/cache?repository=" + enc(repoA), null);
        assertThat(byRepo.statusCode()).isEqualTo(200);
        assertThat(Services.JSON.readTree(byRepo.body()).path("removed").asInt()).isZero();
        // Taken right after A's build and hit, before B did anything (B's own builds come later).
        assertThat(statsOfB.path("hits").asLong()).as("B's stats hold none of A's hits: " + statsOfB).isZero();
        assertThat(statsOfB.path("misses").asLong()).isZero();
        assertThat(statsOfB.path("recordings").asLong()).isZero();

        // A's entry survived all of it.
        assertThat(Builds.request(repoA, "./build.sh", Map.of()).path("cached").asBoolean()).isTrue();
        assertThat(Services.getAuthorized("gateway", "/api/v1/builds/" + id).status()).isEqualTo(200);
    }

    @Test
    void streamsOpenOnlyWithTheirOwnTicket() throws Exception {
        JsonNode hit = Builds.request(repoA, "./build.sh", Map.of());
        String replayUrl = hit.path("streamUrl").asText();
        String base = replayUrl.substring(0, replayUrl.indexOf("/ws/"));
        // B's own build gives B tickets, for B's build and (once recorded) B's key: neither opens A's streams.
        Builds.Recorded b = recordedAs(tokenB, TestGitRepo.withBuildScript("echo tenant B " + UUID.randomUUID()).url());
        JsonNode bHit = Services.JSON.readTree(as(tokenB, "POST", 8080, "/api/v1/builds", Builds.body(b.build().path("repository").asText(),
                "./build.sh", Map.of())).body());
        String bKeyTicket = ticketOf(bHit.path("streamUrl").asText());
        String bBuildTicket = ticketOf(b.build().path("streamUrl").asText());
        assertThat(close(base + "/ws/recordings/" + a.cacheKey() + "?speed=0&ticket=" + bKeyTicket)).isEqualTo(4401);
        assertThat(close(base + "/ws/builds/" + a.buildId() + "?ticket=" + bBuildTicket)).isEqualTo(4401);
        assertThat(close(base + "/ws/recordings/" + a.cacheKey() + "?speed=0")).as("no ticket").isEqualTo(4401);
        // A ticket re-signed for B's tenant with a guessed secret.
        String forged = new StreamTickets("guessed-secret-0123456789").issue("dev", StreamTickets.key(a.cacheKey()),
                Instant.now().plusSeconds(60));
        assertThat(close(base + "/ws/recordings/" + a.cacheKey() + "?speed=0&ticket=" + forged)).isEqualTo(4401);
        // The recording's REST reads: without the gateway's service token, or with B's ticket.
        int replayPort = URI.create(base.replaceFirst("^ws", "http")).getPort();
        assertThat(as(null, "GET", replayPort, "/api/v1/recordings/" + a.cacheKey() + "?tenant=dev", null).statusCode()).isEqualTo(401);
        assertThat(as(null, "GET", replayPort, "/api/v1/recordings/" + a.cacheKey() + "/messages?ticket=" + bKeyTicket, null)
                .statusCode()).isEqualTo(401);
        assertThat(as(null, "GET", replayPort, "/api/v1/stats?tenant=dev", null).statusCode()).isEqualTo(401);
        // A's own ticket opens A's replay.
        RecordingWebSocket own = RecordingWebSocket.open(Services.withQuery(replayUrl, "speed=0"));
        assertThat(own.awaitClose(WAIT)).isEqualTo(1000);
        assertThat(own.messages()).isEqualTo(a.messages());
    }

    @Test
    void theArtifactStoreKeepsEachTenantsEntriesApart() throws Exception {
        byte[] blob = ("tenant A artifact " + UUID.randomUUID()).getBytes(StandardCharsets.UTF_8);
        String digest = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(blob));
        String tokenA = Services.token();
        String turboHash = UUID.randomUUID().toString().replace("-", "");
        Map<String, String> writes = Map.of(
                "/bazel/cas/" + digest, "PUT",
                "/bazel/ac/" + digest, "PUT",
                "/gradle/" + turboHash, "PUT",
                "/ccache/" + turboHash.substring(0, 2) + "/" + turboHash.substring(2) + "R", "PUT",
                "/v8/artifacts/" + turboHash + "?teamId=team_a", "PUT");
        for (var w : writes.entrySet()) {
            HttpResponse<String> put = send(tokenA, w.getValue(), 8083, w.getKey(), blob, "application/octet-stream");
            assertThat(put.statusCode()).as("A stores " + w.getKey() + ": " + put.body()).isBetween(200, 204);
        }
        HttpResponse<String> cache = send(tokenA, "PUT", 8083, "/api/v1/caches?key=tenancy-" + turboHash + "&version=1", blob,
                "application/octet-stream");
        assertThat(cache.statusCode()).as("actions cache: " + cache.body()).isBetween(200, 204);

        for (String path : writes.keySet()) {
            assertThat(as(tokenA, "GET", 8083, path, null).statusCode()).as("A reads " + path).isEqualTo(200);
            assertThat(as(tokenB, "GET", 8083, path, null).statusCode()).as("B reads A's " + path).isEqualTo(404);
            assertThat(HTTP.send(request(tokenB, "HEAD", 8083, path, null).build(), HttpResponse.BodyHandlers.discarding())
                    .statusCode()).as("B HEADs A's " + path).isEqualTo(404);
        }
        assertThat(as(tokenB, "GET", 8083, "/api/v1/caches?key=tenancy-" + turboHash + "&version=1", null).statusCode())
                .as("B's actions-cache lookup of A's key is a miss").isIn(204, 404);
        JsonNode statsB = Services.JSON.readTree(as(tokenB, "GET", 8083, "/api/v1/artifacts/stats", null).body());
        assertThat(statsB.path("entries").asLong()).as("B's artifact stats: " + statsB).isZero();
    }

    @Test
    void theImageApiTakesAnyTenantsTokenForSharedImagesAndNoneWithout() throws Exception {
        // Images are shared by design (named by their public package set): B sees the same list A does.
        String listA = as(Services.token(), "GET", 8084, "/api/v1/images?size=5", null).body();
        HttpResponse<String> listB = as(tokenB, "GET", 8084, "/api/v1/images?size=5", null);
        assertThat(listB.statusCode()).isEqualTo(200);
        assertThat(Services.JSON.readTree(listB.body()).path("total").asLong()).isEqualTo(Services.JSON.readTree(listA).path("total").asLong());
        assertThat(as(tokenB, "GET", 8084, "/api/v1/images/stats", null).statusCode()).isEqualTo(200);
        for (String[] call : List.of(new String[] {"GET", "/api/v1/images"}, new String[] {"GET", "/api/v1/images/stats"},
                new String[] {"POST", "/api/v1/images/resolve"}, new String[] {"POST", "/api/v1/images/prune"},
                new String[] {"POST", "/api/v1/images/invalidate"}, new String[] {"DELETE", "/api/v1/images/" + UUID.randomUUID()})) {
            HttpResponse<String> anonymous = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:8084" + call[1]))
                    .header("Content-Type", "application/json").method(call[0], call[0].equals("POST")
                            ? HttpRequest.BodyPublishers.ofString("{\"dependencies\":[]}") : HttpRequest.BodyPublishers.noBody()).build(),
                    HttpResponse.BodyHandlers.ofString());
            assertThat(anonymous.statusCode()).as(call[0] + " " + call[1] + " without a token: " + anonymous.body()).isEqualTo(401);
            assertThat(as("rpr_" + "f".repeat(43), call[0], 8084, call[1], call[0].equals("POST") ? "{}" : null).statusCode())
                    .as(call[0] + " " + call[1] + " with a token the gateway does not know").isEqualTo(401);
        }
    }

    private static Builds.Recorded recordedAs(String token, String repo) throws Exception {
        JsonNode build = Services.JSON.readTree(as(token, "POST", 8080, "/api/v1/builds", Builds.body(repo, "./build.sh", Map.of())).body());
        String id = build.path("buildId").asText();
        org.awaitility.Awaitility.await().atMost(Builds.BUILD_TIMEOUT).pollInterval(Duration.ofMillis(300)).until(() -> {
            String status = Services.JSON.readTree(as(token, "GET", 8080, "/api/v1/builds/" + id, null).body()).path("status").asText();
            return !status.equals("QUEUED") && !status.equals("RUNNING");
        });
        return new Builds.Recorded(build, Builds.awaitRecording(build.path("cacheKey").asText(), id));
    }

    private static String ticketOf(String streamUrl) {
        return streamUrl.substring(streamUrl.indexOf("ticket=") + 7);
    }

    private static int close(String url) throws Exception {
        return RecordingWebSocket.open(url).awaitClose(WAIT);
    }

    private static String enc(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8);
    }

    private static HttpResponse<String> as(String token, String method, int port, String path, String json) throws Exception {
        return send(token, method, port, path, json == null ? null : json.getBytes(StandardCharsets.UTF_8), "application/json");
    }

    private static HttpResponse<String> send(String token, String method, int port, String path, byte[] body, String type)
            throws Exception {
        HttpRequest.Builder request = request(token, method, port, path, body);
        if (body != null) {
            request.header("Content-Type", type);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static HttpRequest.Builder request(String token, String method, int port, String path, byte[] body) {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(WAIT)
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofByteArray(body));
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return request;
    }
}
