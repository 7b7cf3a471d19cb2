package dev.reprise.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reprise.events.StreamTickets;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * The operator, apart from every tenant: {@code ./reprise operator-token} prints the token the
 * gateway wrote in local mode, and only that scope reads each service's cache report and runs the
 * store-wide actions (artifact prune, collect, integrity; image prune, invalidate; the whole build cache's purge). A tenant's
 * admin token gets 403 there, no token 401. A read token resolves only images that exist.
 */
@Isolated
class OperatorIT {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static String operator;
    private static String admin;
    private static String reader;
    private static String tenant;

    @BeforeAll
    static void tokens() throws Exception {
        operator = Services.operatorToken();
        tenant = Services.newTenant("operator-it", "Operator IT");
        admin = Services.newToken(tenant, "admin");
        reader = Services.newToken(tenant, "read");
        assertThat(call(admin, "GET", "gateway", "/api/v1/whoami", null).body()).contains("\"scope\":\"admin\"");
    }

    @Test
    void theOperatorTokenCommandPrintsTheTokenTheGatewayWroteAndNoLogHoldsIt() throws Exception {
        Services.Run printed = Services.script("./reprise", "operator-token");

        assertThat(printed.exitCode()).as(printed.output()).isZero();
        assertThat(printed.output().strip()).isEqualTo(operator).isNotEqualTo(Services.token());
        Path file = Services.home().resolve("operator-token");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        JsonNode whoami = Services.JSON.readTree(call(operator, "GET", "gateway", "/api/v1/whoami", null).body());
        assertThat(whoami.path("scope").asText()).isEqualTo("operator");
        for (String service : Services.PORTS.keySet()) {
            Path log = Services.home().resolve("logs").resolve(service + ".log");
            if (Files.exists(log)) {
                assertThat(Files.readString(log, StandardCharsets.UTF_8)).as(service + "'s log").doesNotContain(operator);
            }
        }
    }

    @Test
    void everyServicesCacheReportIsAnOperatorsNotATenantAdmins() throws Exception {
        for (String service : Services.PORTS.keySet()) {
            assertThat(call(null, "GET", service, "/api/v1/admin/caches", null).statusCode()).as(service + " without a token").isEqualTo(401);
            for (String token : List.of(admin, reader, Services.token())) {
                HttpResponse<String> refused = call(token, "GET", service, "/api/v1/admin/caches", null);
                assertThat(refused.statusCode()).as(service + " with a tenant's token: " + refused.body()).isEqualTo(403);
                assertThat(refused.body()).contains("scope operator");
            }
            HttpResponse<String> report = call(operator, "GET", service, "/api/v1/admin/caches", null);
            assertThat(report.statusCode()).as(service + " with the operator token: " + report.body()).isEqualTo(200);
            assertThat(Services.JSON.readTree(report.body()).has("caches")).isTrue();
        }
        // replay-service's is the gateway's internal API too: its service token reads it.
        HttpResponse<String> asGateway = HTTP.send(HttpRequest.newBuilder(url("replay", "/api/v1/admin/caches"))
                .header(StreamTickets.SERVICE_HEADER, Services.tickets().serviceToken()).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(asGateway.statusCode()).isEqualTo(200);
    }

    @Test
    void purgingTheWholeBuildCacheIsAnOperatorsAndTheNextRequestBuildsLive() throws Exception {
        String repo = dev.reprise.testing.TestGitRepo.withBuildScript("echo purge " + System.nanoTime()).url();
        Builds.recorded(repo, "./build.sh", Map.of());
        assertThat(Builds.request(repo, "./build.sh", Map.of()).path("cached").asBoolean()).as("recorded: a hit").isTrue();

        assertThat(call(null, "DELETE", "gateway", "/api/v1/admin/cache", null).statusCode()).isEqualTo(401);
        for (String token : List.of(admin, Services.token())) {
            HttpResponse<String> refused = call(token, "DELETE", "gateway", "/api/v1/admin/cache", null);
            assertThat(refused.statusCode()).as("a tenant's token: " + refused.body()).isEqualTo(403);
            assertThat(refused.body()).contains("scope operator");
        }
        assertThat(Builds.request(repo, "./build.sh", Map.of()).path("cached").asBoolean()).as("refused: still a hit").isTrue();

        HttpResponse<String> purged = call(operator, "DELETE", "gateway", "/api/v1/admin/cache", null);
        assertThat(purged.statusCode()).as(purged.body()).isEqualTo(200);
        assertThat(Services.JSON.readTree(purged.body()).path("removed").asInt()).isGreaterThanOrEqualTo(1);
        var again = Builds.request(repo, "./build.sh", Map.of());
        assertThat(again.path("cached").asBoolean()).as("purged: the next request builds live").isFalse();
        assertThat(Builds.awaitFinal(again.path("buildId").asText()).path("status").asText()).isEqualTo("SUCCESS");
    }

    @Test
    void storeWideArtifactActionsAreAnOperatorsNotATenantAdmins() throws Exception {
        // Harmless when allowed: a prune to a size far above the store's, one blob re-hashed.
        for (String path : List.of("/api/v1/artifacts/prune?maxBytes=" + Long.MAX_VALUE, "/api/v1/artifacts/collect",
                "/api/v1/artifacts/integrity?batch=1")) {
            assertThat(call(null, "POST", "artifact", path, "").statusCode()).as(path + " without a token").isEqualTo(401);
            for (String token : List.of(admin, Services.token())) {
                HttpResponse<String> refused = call(token, "POST", "artifact", path, "");
                assertThat(refused.statusCode()).as(path + " with a tenant's token: " + refused.body()).isEqualTo(403);
                assertThat(refused.body()).contains("scope operator");
            }
            HttpResponse<String> done = call(operator, "POST", "artifact", path, "");
            assertThat(done.statusCode()).as(path + " with the operator token: " + done.body()).isEqualTo(200);
        }
        // The store's totals are an operator's too; a tenant's admin sees its tenant.
        assertThat(Services.JSON.readTree(call(admin, "GET", "artifact", "/api/v1/artifacts/stats", null).body()).has("store")).isFalse();
        assertThat(Services.JSON.readTree(call(operator, "GET", "artifact", "/api/v1/artifacts/stats", null).body()).has("store")).isTrue();
    }

    @Test
    void imagePruneAndInvalidateAreAnOperatorsAndADryRunRemovesNothing() throws Exception {
        String base = "127.0.0.1:5000/reprise/operator-it-" + UUID.randomUUID().toString().substring(0, 8) + ":x";
        Map<String, String> calls = Map.of("/api/v1/images/prune?dryRun=true", "{\"unusedDays\":0,\"maxCount\":0}",
                "/api/v1/images/invalidate", "{\"baseImage\":\"" + base + "\"}");
        for (var call : calls.entrySet()) {
            assertThat(call(null, "POST", "image-cache", call.getKey(), call.getValue()).statusCode()).isEqualTo(401);
            for (String token : List.of(admin, reader, Services.token())) {
                HttpResponse<String> refused = call(token, "POST", "image-cache", call.getKey(), call.getValue());
                assertThat(refused.statusCode()).as(call.getKey() + " with a tenant's token: " + refused.body()).isEqualTo(403);
                assertThat(refused.body()).contains("scope operator");
            }
        }
        long before = total();

        // maxCount 0: every finished image is a candidate, and none is removed.
        HttpResponse<String> dry = call(operator, "POST", "image-cache", "/api/v1/images/prune?dryRun=true", "{\"unusedDays\":0,\"maxCount\":0}");

        assertThat(dry.statusCode()).as(dry.body()).isEqualTo(200);
        JsonNode answer = Services.JSON.readTree(dry.body());
        assertThat(answer.path("dryRun").asBoolean()).isTrue();
        assertThat(answer.path("removed").asInt()).isZero();
        assertThat(answer.path("wouldRemove").asInt()).isEqualTo(answer.path("images").size());
        assertThat(total()).as("a dry run removes nothing").isEqualTo(before);
        for (JsonNode image : answer.path("images")) {
            assertThat(call(operator, "GET", "image-cache", "/api/v1/images/" + image.path("id").asText(), null).statusCode())
                    .as(image.path("reference").asText() + " is still there").isEqualTo(200);
        }
        assertThat(call(operator, "POST", "image-cache", "/api/v1/images/prune?dryrun=true", "{\"unusedDays\":0,\"maxCount\":0}").body())
                .as("a misspelt dry run is refused, never a prune").contains("unknown query parameter dryrun");
        assertThat(total()).isEqualTo(before);
        HttpResponse<String> invalidated = call(operator, "POST", "image-cache", "/api/v1/images/invalidate", "{\"baseImage\":\"" + base + "\"}");
        assertThat(invalidated.statusCode()).as(invalidated.body()).isEqualTo(200);
    }

    @Test
    void aReadTokenResolvesOnlyImagesThatExist() throws Exception {
        String name = "reprise-never-built-" + UUID.randomUUID().toString().replace("-", "");
        long before = total();

        HttpResponse<String> refused = call(reader, "POST", "image-cache", "/api/v1/images/resolve",
                "{\"dependencies\":[{\"type\":\"apt\",\"name\":\"" + name + "\"}]}");

        assertThat(refused.statusCode()).as(refused.body()).isEqualTo(403);
        assertThat(refused.body()).contains("needs a read-write token");
        assertThat(total()).as("no build was started").isEqualTo(before);
    }

    // --- helpers ---

    private static long total() throws Exception {
        return Services.JSON.readTree(call(operator, "GET", "image-cache", "/api/v1/images?size=1", null).body()).path("total").asLong();
    }

    private static HttpResponse<String> call(String token, String method, String service, String path, String json) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(url(service, path)).timeout(Duration.ofSeconds(60))
                .method(method, json == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(json));
        if (json != null && !json.isEmpty()) {
            request.header("Content-Type", "application/json");
        }
        if (token != null) {
            request.header("Authorization", "Bearer " + token);
        }
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static URI url(String service, String path) {
        return URI.create("http://127.0.0.1:" + Services.PORTS.get(service) + path);
    }
}
