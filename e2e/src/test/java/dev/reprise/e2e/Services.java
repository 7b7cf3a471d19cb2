package dev.reprise.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/** The running services and scripts, as a user on this machine reaches them. */
final class Services {

    /** Service name → HTTP port, with the same environment overrides as deploy/local/services.sh. */
    static final Map<String, Integer> PORTS = Map.of(
            "gateway", port("GATEWAY_PORT", 8080),
            "build-runner", port("BUILD_RUNNER_PORT", 8081),
            "replay", port("REPLAY_PORT", 8082),
            "artifact", port("ARTIFACT_PORT", 8083),
            "image-cache", port("IMAGE_CACHE_PORT", 8084));

    static final Path ROOT = Path.of(System.getProperty("reprise.root", "..")).toAbsolutePath().normalize();
    static final ObjectMapper JSON = new ObjectMapper();
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

    /** An HTTP answer: status code and JSON body (null when the body is not JSON). */
    record Answer(int status, JsonNode body) {
    }

    private Services() {
    }

    static Answer get(String service, String path, String... headers) {
        return send(request(service, path, headers).GET());
    }

    static Answer get(int port, String path, String... headers) {
        return send(request(port, path, headers).GET());
    }

    /** The body of a GET as text (for non-JSON answers). */
    static String text(String service, String path) throws IOException, InterruptedException {
        return HTTP.send(request(service, path).GET().build(), HttpResponse.BodyHandlers.ofString()).body();
    }

    /** POSTs a JSON body with the development token. */
    static Answer post(String service, String path, String json) throws IOException {
        return send(request(service, path, "Authorization", "Bearer " + token(), "Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(json)));
    }

    /** DELETEs with the development token. */
    static Answer delete(String service, String path) throws IOException {
        return send(request(service, path, "Authorization", "Bearer " + token()).DELETE());
    }

    /** GETs with the development token. */
    static Answer getAuthorized(String service, String path) throws IOException {
        return get(service, path, "Authorization", "Bearer " + token());
    }

    private static HttpRequest.Builder request(String service, String path, String... headers) {
        HttpRequest.Builder request = request(PORTS.get(service), path, headers);
        if ("replay".equals(service)) {
            // replay-service's REST API is the gateway's: the tests call it as the gateway does.
            request.header(dev.reprise.events.StreamTickets.SERVICE_HEADER, tickets().serviceToken());
        }
        return request;
    }

    /** Stream tickets and the service token, from the secret the local services were started with. */
    static dev.reprise.events.StreamTickets tickets() {
        return new dev.reprise.events.StreamTickets(streamSecret());
    }

    /** REPRISE_STREAM_SECRET, or the one deploy/local/services.sh generated into .reprise/stream-secret. */
    static String streamSecret() {
        String secret = System.getenv("REPRISE_STREAM_SECRET");
        if (secret != null && !secret.isBlank()) {
            return secret;
        }
        try {
            return Files.readString(home().resolve("stream-secret"), StandardCharsets.UTF_8).strip();
        } catch (IOException e) {
            throw new IllegalStateException("no stream secret: set REPRISE_STREAM_SECRET or start the services with ./reprise up", e);
        }
    }

    /** {@code url} with more query parameters ({@code "speed=0"}), whether or not it has a query already. */
    static String withQuery(String url, String query) {
        return url + (url.contains("?") ? "&" : "?") + query;
    }

    /**
     * {@code port}'s service at {@code path}; /q/* (health, metrics) is on the service's management port, the
     * HTTP port + 1000 in local mode (deploy/local/services.sh).
     */
    private static HttpRequest.Builder request(int port, String path, String... headers) {
        int to = path.startsWith("/q/") ? managementPort(port) : port;
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + to + path))
                .timeout(Duration.ofSeconds(30));
        if (headers.length > 0) {
            request.headers(headers);
        }
        return request;
    }

    private static Answer send(HttpRequest.Builder request) {
        try {
            HttpResponse<String> response = HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
            JsonNode body;
            try {
                body = JSON.readTree(response.body());
            } catch (IOException notJson) {
                body = null;
            }
            return new Answer(response.statusCode(), body);
        } catch (IOException e) {
            return new Answer(0, null);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The status of one named check in a readiness answer, or "ABSENT". */
    static String check(Answer ready, String name) {
        if (ready.body() == null) {
            return "ABSENT";
        }
        for (JsonNode check : ready.body().path("checks")) {
            if (name.equals(check.path("name").asText())) {
                return check.path("status").asText();
            }
        }
        return "ABSENT";
    }

    static String token() throws IOException {
        return Files.readString(home().resolve("token"), StandardCharsets.UTF_8).strip();
    }

    /** The operator token the gateway writes in local mode (what {@code ./reprise operator-token} prints). */
    static String operatorToken() throws IOException {
        return Files.readString(home().resolve("operator-token"), StandardCharsets.UTF_8).strip();
    }

    /** Result of a script run: exit code and everything it printed. */
    record Run(int exitCode, String output) {
    }

    static Run script(String... command) throws IOException, InterruptedException {
        return run(ROOT, Map.of(), Duration.ofMinutes(5), command);
    }

    /** Runs a command in {@code dir} with extra environment variables, no standard input; its exit code and output. */
    /**
     * JVM options for the real clients' JVMs the tests start (Maven, Gradle, Bazel's server): they live for
     * seconds, and C2's compilations would cost about as much CPU as their work on 2 shared cores.
     */
    static final String SHORT_LIVED_JVM = "-XX:TieredStopAtLevel=1";

    static Run run(Path dir, Map<String, String> env, Duration timeout, String... command) throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(new ArrayList<>(List.of(command))).directory(dir.toFile()).redirectErrorStream(true)
                .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        builder.environment().putAll(env);
        Process process = builder.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
            process.destroyForcibly();
            throw new IllegalStateException(String.join(" ", command) + " did not finish within " + timeout);
        }
        return new Run(process.exitValue(), output);
    }

    /** A new tenant (its id starts with {@code prefix}), straight in the gateway's table as an operator would add it. */
    static String newTenant(String prefix, String name) throws IOException, InterruptedException {
        String tenant = prefix + "-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        sql("INSERT INTO gateway.tenants (id, name) VALUES ('" + tenant + "', '" + name.replace("'", "''") + "')");
        return tenant;
    }

    /** A new API token of {@code tenant} with {@code scope} (read, read-write, admin, operator). */
    static String newToken(String tenant, String scope) throws IOException, InterruptedException {
        byte[] secret = new byte[32];
        new java.security.SecureRandom().nextBytes(secret);
        String token = "rpr_" + java.util.Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        sql("INSERT INTO gateway.api_tokens (token_hash, tenant_id, name, scope) VALUES ('" + sha256Hex(token) + "', '" + tenant
                + "', 'e2e-" + java.util.UUID.randomUUID() + "', '" + scope + "')");
        return token;
    }

    /** The hex SHA-256 of a text (how the gateway keys tokens). */
    static String sha256Hex(String text) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Runs SQL against the local PostgreSQL with psql (as the services' role); its output. */
    static String sql(String statement) throws IOException, InterruptedException {
        ProcessBuilder psql = new ProcessBuilder("psql", "-v", "ON_ERROR_STOP=1", "-At", "-h", env("PG_HOST", "127.0.0.1"),
                "-p", env("PG_PORT", "5432"), "-U", env("PG_USER", "reprise"), "-d", env("PG_DATABASE", "reprise"),
                "-c", statement).redirectErrorStream(true);
        psql.environment().put("PGPASSWORD", env("PG_PASSWORD", "reprise"));
        Process process = psql.start();
        String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!process.waitFor(30, TimeUnit.SECONDS) || process.exitValue() != 0) {
            throw new IllegalStateException("psql failed: " + output);
        }
        return output.strip();
    }

    /** The pid of a service started by deploy/local/services.sh. */
    static long pid(String service) throws IOException {
        return Long.parseLong(Files.readString(home().resolve("run").resolve(service + ".pid")).strip());
    }

    /** The management port (health, metrics) of the service on HTTP port {@code port}, as services.sh starts it. */
    static int managementPort(int port) {
        return port + 1000;
    }

    static Path home() {
        return Path.of(env("REPRISE_HOME", ROOT.resolve(".reprise").toString()));
    }

    private static String env(String name, String fallback) {
        String value = System.getenv(name);
        return value == null || value.isBlank() ? fallback : value;
    }

    private static int port(String variable, int defaultPort) {
        String value = System.getenv(variable);
        return value == null || value.isBlank() ? defaultPort : Integer.parseInt(value);
    }
}
