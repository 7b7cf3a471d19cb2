package dev.reprise.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.reprise.e2e.Services.Answer;
import dev.reprise.e2e.Services.Run;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * The foundation as a user meets it: five services started by the scripts, ready, authenticated
 * with the development token, and honest about Kafka going away and coming back.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
@Isolated
class FoundationIT {

    private static final String KAFKA_CHECK = "Kafka broker health check";

    @Test
    @Order(1)
    void allFiveServicesAreLiveAndReady() {
        Services.PORTS.keySet().forEach(service -> {
            Answer ready = Services.get(service, "/q/health/ready");
            assertThat(ready.status()).as(service + " ready").isEqualTo(200);
            assertThat(ready.body().path("status").asText()).isEqualTo("UP");
            assertThat(Services.check(ready, KAFKA_CHECK)).as(service).isEqualTo("UP");
            assertThat(Services.get(service, "/q/health/live").status()).as(service + " live").isEqualTo(200);
            assertThat(Services.get(service, "/q/metrics").status()).as(service + " metrics").isEqualTo(200);
        });
    }

    @Test
    @Order(2)
    void healthAndMetricsAreOnlyOnTheManagementPortNeverOnTheApiPort() throws Exception {
        java.net.http.HttpClient http = java.net.http.HttpClient.newHttpClient();
        for (Map.Entry<String, Integer> service : Services.PORTS.entrySet()) {
            for (String path : List.of("/q/health/ready", "/q/health/live", "/q/metrics", "/q/openapi", "/q/swagger-ui/")) {
                int status = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + service.getValue() + path))
                        .build(), java.net.http.HttpResponse.BodyHandlers.discarding()).statusCode();
                assertThat(status).as(service.getKey() + " API port " + path).isEqualTo(404);
            }
        }
    }

    @Test
    @Order(2)
    void theDevelopmentTokenAuthenticatesAtTheGateway() throws Exception {
        Answer whoami = Services.get("gateway", "/api/v1/whoami", "Authorization", "Bearer " + Services.token());
        assertThat(whoami.status()).isEqualTo(200);
        assertThat(whoami.body().path("tenantId").asText()).isEqualTo("dev");
        assertThat(whoami.body().path("scope").asText()).isEqualTo("read-write");

        assertThat(Services.get("gateway", "/api/v1/whoami").status()).isEqualTo(401);
    }

    @Test
    @Order(3)
    void startingAgainIsANoOpThatReportsWhatRuns() throws Exception {
        Run again = Services.script("deploy/local/services.sh", "up");
        assertThat(again.exitCode()).as(again.output()).isZero();
        for (String service : Services.PORTS.keySet()) {
            assertThat(again.output()).containsPattern("(?m)^" + service + "\\s+running\\s+http://127\\.0\\.0\\.1:"
                    + Services.PORTS.get(service));
        }
        assertThat(again.output()).doesNotContain("starting on port");

        Run infra = Services.script("deploy/local/infra.sh", "up");
        assertThat(infra.exitCode()).as(infra.output()).isZero();
        assertThat(infra.output()).containsPattern("(?m)^kafka\\s+running");
    }

    @Test
    @Order(4)
    void theDemoMissesThenHitsWithItsRepositoryInTheOwnerOnlyStateDirectory() throws Exception {
        // .reprise is closed to other users (it holds the secrets), so the build's uid cannot reach the demo's repository
        // there: the runner copies a local repository for the checkout. A new commit each time, so the first build runs.
        Path repo = Services.home().resolve("demo-repo");
        assertThat(java.nio.file.Files.getPosixFilePermissions(Services.home())).doesNotContain(
                java.nio.file.attribute.PosixFilePermission.OTHERS_EXECUTE, java.nio.file.attribute.PosixFilePermission.OTHERS_READ);
        Run clean = Services.run(Services.ROOT, Map.of(), Duration.ofSeconds(30), "rm", "-rf", repo.toString());
        assertThat(clean.exitCode()).as(clean.output()).isZero();

        Run demo = Services.script("./reprise", "demo");

        assertThat(demo.exitCode()).as(demo.output()).isZero();
        assertThat(demo.output()).contains("cache MISS, running it live").contains("cache HIT").contains("BUILD SUCCESS");
    }

    @Test
    @Order(5)
    void withKafkaStoppedEveryServiceIsNotReadyAndRecoversWhenItIsBack() throws Exception {
        Run stop = Services.script("deploy/local/infra.sh", "down", "kafka");
        assertThat(stop.exitCode()).as(stop.output()).isZero();
        try {
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() ->
                    Services.PORTS.keySet().forEach(service -> {
                        Answer ready = Services.get(service, "/q/health/ready");
                        assertThat(ready.status()).as(service + " ready while Kafka is down: " + ready.body()).isEqualTo(503);
                        assertThat(Services.check(ready, KAFKA_CHECK)).as(service).isEqualTo("DOWN");
                        assertThat(Services.get(service, "/q/health/live").status()).as(service + " live").isEqualTo(200);
                    }));
        } finally {
            Run start = Services.script("deploy/local/infra.sh", "up", "kafka");
            assertThat(start.exitCode()).as(start.output()).isZero();
        }
        await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() ->
                Services.PORTS.keySet().forEach(service ->
                        assertThat(Services.get(service, "/q/health/ready").status())
                                .as(service + " ready again").isEqualTo(200)));
    }
}
