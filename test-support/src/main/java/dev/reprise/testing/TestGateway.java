package dev.reprise.testing;

import com.sun.net.httpserver.HttpServer;
import io.quarkus.test.common.QuarkusTestResourceLifecycleManager;
import io.restassured.RestAssured;
import io.restassured.filter.Filter;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Stands in for the gateway's {@code GET /api/v1/whoami}, the only gateway call artifact-service
 * and image-cache-service make: tokens issued by {@link #token} answer with their tenant and
 * scope, others 401. (The end-to-end suite runs the real gateway.)
 */
public class TestGateway implements QuarkusTestResourceLifecycleManager {

    private static final Map<String, String[]> TOKENS = new ConcurrentHashMap<>();
    private static final SecureRandom RANDOM = new SecureRandom();
    private HttpServer server;
    private static volatile String everyRequestToken;
    /** Adds the token of {@link #authorizeRestAssured} to RestAssured requests that carry no Authorization. */
    private static final Filter BEARER = (request, response, context) -> {
        String token = everyRequestToken;
        if (token != null && !request.getHeaders().hasHeaderWithName("Authorization")) {
            request.header("Authorization", "Bearer " + token);
        }
        return context.next(request, response);
    };

    /**
     * Sends {@code token} with every RestAssured request of these tests that sets no Authorization
     * of its own ({@code given().noFilters()} sends none).
     */
    public static void authorizeRestAssured(String token) {
        everyRequestToken = token;
        if (!RestAssured.filters().contains(BEARER)) {
            RestAssured.filters(BEARER);
        }
    }

    /** A new token of a tenant with this scope (read, read-write, admin). */
    public static String token(String tenantId, String scope) {
        byte[] secret = new byte[32];
        RANDOM.nextBytes(secret);
        String token = "rpr_" + Base64.getUrlEncoder().withoutPadding().encodeToString(secret);
        TOKENS.put(token, new String[] {tenantId, scope});
        return token;
    }

    /** A tenant id no other test uses. */
    public static String newTenant() {
        return "t-" + UUID.randomUUID().toString().substring(0, 8);
    }

    @Override
    public Map<String, String> start() {
        try {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        server.createContext("/api/v1/whoami", exchange -> {
            String auth = exchange.getRequestHeaders().getFirst("Authorization");
            String[] grant = auth == null || !auth.startsWith("Bearer ") ? null : TOKENS.get(auth.substring(7));
            byte[] body = (grant == null
                    ? "{\"status\":401,\"title\":\"Unauthorized\"}"
                    : "{\"tenantId\":\"" + grant[0] + "\",\"tenantName\":\"" + grant[0] + "\",\"tokenName\":\"test\",\"scope\":\"" + grant[1] + "\"}")
                    .getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/json");
            exchange.sendResponseHeaders(grant == null ? 401 : 200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.start();
        return Map.of("quarkus.rest-client.gateway.url", "http://127.0.0.1:" + server.getAddress().getPort());
    }

    @Override
    public void stop() {
        if (server != null) {
            server.stop(0);
        }
    }
}
