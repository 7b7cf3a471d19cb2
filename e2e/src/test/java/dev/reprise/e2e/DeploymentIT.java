package dev.reprise.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.File;
import java.io.StringReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/** The deployment descriptors render and validate with the real tools, and say only what the services read. */
class DeploymentIT {

    private static final Path ROOT = Services.ROOT;
    private static final Set<String> SERVICES = Set.of("gateway", "build-runner", "replay", "artifact", "image-cache");

    @ParameterizedTest
    @ValueSource(strings = {"dev", "prod"})
    void theKustomizeOverlayRendersAndEveryServiceDeploymentIsProbedBoundedAndNonRoot(String overlay) throws Exception {
        Run render = run("kubectl", "kustomize", ROOT.resolve("deploy/k8s/overlays/" + overlay).toString());
        assertThat(render.exitCode()).as(render.output()).isZero();
        assertThat(render.output()).as("kustomize's warnings (resources:/patches:, not bases:/patchesStrategicMerge:)")
                .doesNotContainIgnoringCase("deprecated");
        List<JsonNode> objects = new ArrayList<>();
        new ObjectMapper(new YAMLFactory()).readerFor(JsonNode.class)
                .readValues(render.stdout()).forEachRemaining(n -> objects.add((JsonNode) n));

        Set<String> deployed = new TreeSet<>();
        Set<Integer> managementPorts = new TreeSet<>();
        List<JsonNode> services = new java.util.ArrayList<>();
        for (JsonNode object : objects) {
            String kind = object.path("kind").asText();
            String name = object.path("metadata").path("name").asText();
            if (kind.equals("Deployment") && SERVICES.contains(name)) {
                deployed.add(name);
                JsonNode pod = object.path("spec").path("template").path("spec");
                boolean runner = name.equals("build-runner");
                if (runner) {
                    // Root to contain builds, but only inside a user namespace of its own (README, "Security model").
                    assertThat(pod.path("hostUsers").asBoolean(true)).as("the runner's root is not the node's").isFalse();
                } else {
                    assertThat(pod.path("securityContext").path("runAsNonRoot").asBoolean()).as(name + " runs as non-root").isTrue();
                }
                for (JsonNode container : pod.path("containers")) {
                    assertThat(container.path("livenessProbe").path("httpGet").path("path").asText()).isEqualTo("/q/health/live");
                    assertThat(container.path("readinessProbe").path("httpGet").path("path").asText()).isEqualTo("/q/health/ready");
                    // Health and metrics on the management port, which no Service or Ingress routes.
                    for (String probe : List.of("startupProbe", "livenessProbe", "readinessProbe")) {
                        assertThat(container.path(probe).path("httpGet").path("port").asText()).as(name + " " + probe).isEqualTo("management");
                    }
                    JsonNode management = null;
                    for (JsonNode port : container.path("ports")) {
                        if (port.path("name").asText().equals("management")) {
                            management = port;
                        }
                    }
                    assertThat(management).as(name + " declares its management port").isNotNull();
                    assertThat(object.path("spec").path("template").path("metadata").path("annotations").path("prometheus.io/port").asText())
                            .as(name + " is scraped on its management port").isEqualTo(management.path("containerPort").asText());
                    managementPorts.add(management.path("containerPort").asInt());
                    for (String bound : List.of("requests", "limits")) {
                        assertThat(container.path("resources").path(bound).has("cpu")).as(name + " cpu " + bound).isTrue();
                        assertThat(container.path("resources").path(bound).has("memory")).as(name + " memory " + bound).isTrue();
                    }
                    assertThat(container.path("securityContext").path("allowPrivilegeEscalation").asBoolean(true)).isEqualTo(runner);
                    assertThat(container.path("securityContext").path("capabilities").path("drop").toString()).contains("ALL");
                }
            }
            if (kind.equals("Service")) {
                services.add(object);
            }
            if (kind.equals("Deployment") && name.equals("redis")) {
                // Redis is a cache: capped, least recently used keys out first (seed 001).
                String args = object.path("spec").path("template").path("spec").path("containers").path(0).path("args").toString();
                assertThat(args).as("redis args").contains("\"--maxmemory\"", "\"--maxmemory-policy\",\"allkeys-lru\"");
            }
            if (kind.equals("ConfigMap") && name.endsWith("-config") && SERVICES.contains(name.replace("-config", ""))) {
                Properties set = new Properties();
                set.load(new StringReader(object.path("data").path("application.properties").asText()));
                Set<String> read = propertiesRead(name.replace("-config", ""));
                for (String key : set.stringPropertyNames()) {
                    assertThat(read).as(name + " sets " + key + ", a property the service reads").contains(key);
                }
            }
            if (kind.equals("ConfigMap") && name.equals("reprise-endpoints") || kind.equals("Secret") && name.equals("reprise-credentials")) {
                Set<String> variables = variablesRead();
                object.path("data").fieldNames().forEachRemaining(variable ->
                        assertThat(variables).as(name + " sets " + variable + ", a variable the services read").contains(variable));
            }
        }
        assertThat(deployed).isEqualTo(SERVICES);
        assertThat(managementPorts).hasSize(SERVICES.size());
        for (JsonNode service : services) {
            for (JsonNode port : service.path("spec").path("ports")) {
                assertThat(managementPorts).as("Service " + service.path("metadata").path("name").asText() + " routes no management port")
                        .doesNotContain(port.path("port").asInt(), port.path("targetPort").asInt());
            }
        }
        assertThat(objects).as("a NetworkPolicy walls in the runner's pods (its builds)").anyMatch(o -> o.path("kind").asText()
                .equals("NetworkPolicy") && o.path("spec").path("podSelector").path("matchLabels").path("app.kubernetes.io/name")
                .asText().equals("build-runner"));
        assertThat(objects.stream().filter(o -> o.path("kind").asText().equals("HorizontalPodAutoscaler")).count()).isEqualTo(5);
        assertThat(objects.stream().filter(o -> o.path("kind").asText().equals("PodDisruptionBudget")).count()).isEqualTo(5);
        assertThat(objects.stream().filter(o -> o.path("kind").asText().equals("KafkaTopic")).count()).isEqualTo(5);
        JsonNode dashboards = objects.stream().filter(o -> o.path("metadata").path("name").asText().equals("reprise-grafana-dashboards"))
                .findFirst().orElseThrow();
        assertThat(dashboards.path("metadata").path("labels").path("grafana_dashboard").asText()).isEqualTo("1");
        long files;
        try (var listing = java.nio.file.Files.list(Services.ROOT.resolve("deploy/grafana/dashboards"))) {
            files = listing.filter(f -> f.toString().endsWith(".json")).count();
        }
        assertThat(files).isGreaterThanOrEqualTo(5);
        assertThat((long) dashboards.path("data").size()).as("one key per dashboard file").isEqualTo(files);
    }

    @Test
    void composeAndPrometheusFilesValidateWithTheirOwnTools() throws Exception {
        // No default passwords: without the store credentials the file refuses to render, with them it validates.
        Run missing = run(Map.of("PG_PASSWORD", "", "REDIS_PASSWORD", "", "S3_SECRET_KEY", ""),
                "docker-compose", "-f", ROOT.resolve("docker-compose.yml").toString(), "config", "-q");
        assertThat(missing.exitCode()).as(missing.output()).isNotZero();
        assertThat(missing.output()).contains("PG_PASSWORD");
        Run compose = run(Map.of("PG_PASSWORD", "p", "REDIS_PASSWORD", "r", "S3_SECRET_KEY", "s"),
                "docker-compose", "-f", ROOT.resolve("docker-compose.yml").toString(), "config", "-q");
        assertThat(compose.exitCode()).as(compose.output()).isZero();
        Run rules = run("promtool", "check", "rules", ROOT.resolve("deploy/prometheus/rules/reprise.yml").toString());
        assertThat(rules.exitCode()).as(rules.output()).isZero();
        Run config = run("promtool", "check", "config", ROOT.resolve("deploy/prometheus/prometheus.yml").toString());
        assertThat(config.exitCode()).as(config.output()).isZero();
    }

    /** Keys of the service's application.properties (profiles stripped). */
    private static Set<String> propertiesRead(String service) throws Exception {
        Properties properties = new Properties();
        properties.load(new StringReader(Files.readString(ROOT.resolve(service + "-service/src/main/resources/application.properties"))));
        Set<String> keys = new TreeSet<>();
        properties.stringPropertyNames().forEach(k -> keys.add(k.replaceFirst("^%[a-z]+\\.", "")));
        return keys;
    }

    /** Environment variables the services' application.properties read (${NAME...}). */
    private static Set<String> variablesRead() throws Exception {
        Set<String> variables = new TreeSet<>();
        for (String service : SERVICES) {
            Matcher m = Pattern.compile("\\$\\{([A-Z][A-Z0-9_]*)").matcher(
                    Files.readString(ROOT.resolve(service + "-service/src/main/resources/application.properties")));
            while (m.find()) {
                variables.add(m.group(1));
            }
        }
        return variables;
    }

    private record Run(int exitCode, String stdout, String output) {
    }

    private static Run run(String... command) throws Exception {
        return run(Map.of(), command);
    }

    /** With variables set (an empty value unsets one). */
    private static Run run(Map<String, String> env, String... command) throws Exception {
        Path err = Files.createTempFile("reprise-run-", ".err");
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(err.toFile()).redirectInput(new File("/dev/null"));
        env.forEach((name, value) -> {
            if (value.isEmpty()) {
                builder.environment().remove(name);
            } else {
                builder.environment().put(name, value);
            }
        });
        Process process = builder.start();
        String stdout = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        boolean done = process.waitFor(120, TimeUnit.SECONDS);
        String stderr = Files.readString(err);
        Files.delete(err);
        return new Run(done ? process.exitValue() : -1, stdout, String.join(" ", command) + "\n" + stderr);
    }
}
