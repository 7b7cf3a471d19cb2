package dev.reprise.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.reprise.testing.TestGitRepo;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * A real Prometheus (Debian's package) with the project's rules scrapes the five running services,
 * and every query the dashboards and alerts use returns a number after a demo build (a miss, then
 * a hit) made while it scrapes.
 */
class ObservabilityIT {

    private static final Path PROMETHEUS = Services.ROOT.resolve("deploy/prometheus");
    private static final Path DASHBOARDS = Services.ROOT.resolve("deploy/grafana/dashboards");
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @Test
    void prometheusScrapesEveryServiceAndEveryDashboardAndAlertQueryReturnsData() throws Exception {
        Path dir = Files.createTempDirectory("reprise-prometheus-");
        Files.createDirectories(dir.resolve("rules"));
        Files.createDirectories(dir.resolve("targets"));
        try (Stream<Path> rules = Files.list(PROMETHEUS.resolve("rules"))) {
            for (Path rule : rules.toList()) {
                Files.copy(rule, dir.resolve("rules").resolve(rule.getFileName()));
            }
        }
        StringBuilder targets = new StringBuilder();
        Services.PORTS.forEach((service, port) -> targets.append("- targets: ['127.0.0.1:").append(Services.managementPort(port))
                .append("']\n  labels: {service: ").append(service).append("}\n"));
        Files.writeString(dir.resolve("targets/local.yml"), targets);
        // The project's config, scraping and evaluating every second for the test.
        Files.writeString(dir.resolve("prometheus.yml"), Files.readString(PROMETHEUS.resolve("prometheus.yml"))
                .replace("scrape_interval: 15s", "scrape_interval: 1s").replace("evaluation_interval: 15s", "evaluation_interval: 1s"));
        Services.Run check = Services.script("promtool", "check", "config", dir.resolve("prometheus.yml").toString());
        assertThat(check.exitCode()).as(check.output()).isZero();

        int port;
        try (ServerSocket socket = new ServerSocket(0)) {
            port = socket.getLocalPort();
        }
        Process prometheus = new ProcessBuilder("prometheus", "--config.file=" + dir.resolve("prometheus.yml"),
                "--storage.tsdb.path=" + dir.resolve("data"), "--web.listen-address=127.0.0.1:" + port)
                .redirectErrorStream(true).redirectOutput(dir.resolve("prometheus.log").toFile()).start();
        try {
            String base = "http://127.0.0.1:" + port;
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofSeconds(1)).untilAsserted(() -> {
                JsonNode active = get(base + "/api/v1/targets").path("data").path("activeTargets");
                List<String> up = new ArrayList<>();
                active.forEach(t -> {
                    if ("up".equals(t.path("health").asText())) {
                        up.add(t.path("labels").path("service").asText());
                    }
                });
                assertThat(up).as("services scraped").containsExactlyInAnyOrderElementsOf(Services.PORTS.keySet());
            });
            demo(); // while Prometheus scrapes, so rates and histograms see it happen
            Set<String> queries = queries();
            assertThat(queries).hasSizeGreaterThan(20);
            List<String> empty = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
            for (String query : queries) {
                while (!returnsData(base, query) && System.nanoTime() < deadline) {
                    Thread.sleep(1000);
                }
                if (!returnsData(base, query)) {
                    empty.add(query);
                }
            }
            assertThat(empty).as("queries that returned no data").isEmpty();
        } finally {
            prometheus.destroy();
            prometheus.waitFor(20, TimeUnit.SECONDS);
        }
    }

    /** A build that misses, then the same request hitting and replaying. */
    private static void demo() throws Exception {
        // Followed live (the live-delay histogram times what a waiting client gets); the sleep lets it connect first.
        TestGitRepo repo = TestGitRepo.withBuildScript("sleep 2; echo observable");
        JsonNode live = Builds.live(repo.url(), "./build.sh", Map.of());
        dev.reprise.testing.RecordingWebSocket follower = dev.reprise.testing.RecordingWebSocket.open(live.path("streamUrl").asText());
        assertThat(follower.awaitClose(Duration.ofSeconds(60))).isEqualTo(1000);
        Builds.awaitRecording(live.path("cacheKey").asText(), live.path("buildId").asText());
        JsonNode hit = Builds.request(repo.url(), "./build.sh", Map.of());
        assertThat(hit.path("cached").asBoolean()).isTrue();
        dev.reprise.testing.RecordingWebSocket replay = dev.reprise.testing.RecordingWebSocket.open(Services.withQuery(hit.path("streamUrl").asText(), "speed=0"));
        assertThat(replay.awaitClose(Duration.ofSeconds(30))).isEqualTo(1000);
    }

    /** Every recording rule's expression (alerts compare those) and every dashboard query. */
    private static Set<String> queries() throws Exception {
        Set<String> queries = new LinkedHashSet<>();
        ObjectMapper yaml = new ObjectMapper(new YAMLFactory());
        try (Stream<Path> rules = Files.list(PROMETHEUS.resolve("rules"))) {
            for (Path file : rules.toList()) {
                for (JsonNode group : yaml.readTree(file.toFile()).path("groups")) {
                    for (JsonNode rule : group.path("rules")) {
                        if (rule.has("record")) {
                            queries.add(rule.path("record").asText());
                            queries.add(rule.path("expr").asText().strip());
                        }
                    }
                }
            }
        }
        ObjectMapper json = new ObjectMapper();
        try (Stream<Path> dashboards = Files.list(DASHBOARDS)) {
            for (Path file : dashboards.filter(f -> f.toString().endsWith(".json")).toList()) {
                for (JsonNode panel : json.readTree(file.toFile()).path("panels")) {
                    panel.path("targets").forEach(t -> queries.add(t.path("expr").asText()));
                }
            }
        }
        return queries;
    }

    private static boolean returnsData(String base, String query) throws Exception {
        JsonNode answer = get(base + "/api/v1/query?query=" + URLEncoder.encode(query, StandardCharsets.UTF_8));
        // Data: at least one series with a number (a NaN, e.g. a quantile of no traffic, is no data).
        if (!"success".equals(answer.path("status").asText())) {
            return false;
        }
        for (JsonNode series : answer.path("data").path("result")) {
            if (!"NaN".equals(series.path("value").path(1).asText())) {
                return true;
            }
        }
        return false;
    }

    private static JsonNode get(String url) throws Exception {
        return Services.JSON.readTree(HTTP.send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString()).body());
    }
}
