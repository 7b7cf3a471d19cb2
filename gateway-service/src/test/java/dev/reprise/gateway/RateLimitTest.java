package dev.reprise.gateway;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.reprise.gateway.service.ApiTokens;
import dev.reprise.gateway.store.TenantStore;
import dev.reprise.testing.RepriseInfrastructure;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Each token has its own budget; over it, 429 with a Retry-After, while other tokens go on. */
@QuarkusTest
@TestProfile(RateLimitTest.Tight.class)
@WithTestResource(value = RepriseInfrastructure.class, initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis"))
class RateLimitTest {

    /**
     * 1 request per 10 s with a burst of 3: the fourth quick request is over, however slow the
     * machine. Also a production gateway: file:// repositories off.
     */
    public static class Tight implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("reprise.rate-limit.requests", "1", "reprise.rate-limit.period", "3s", "reprise.rate-limit.burst", "3",
                    "reprise.builds.allow-file-repositories", "false");
        }
    }

    @Inject
    TenantStore tenants;

    @Test
    void aTokenOverItsBudgetGets429WithRetryAfterAndOthersAreUnaffected() {
        String busy = token();
        String quiet = token();
        for (int i = 0; i < 3; i++) {
            given().auth().oauth2(busy).get("/api/v1/whoami").then().statusCode(200);
        }
        Response limited = given().auth().oauth2(busy).get("/api/v1/whoami");
        limited.then().statusCode(429).contentType(containsString("application/problem+json"))
                .body("status", equalTo(429)).body("detail", containsString("retry after"));
        assertThat(Integer.parseInt(limited.header("Retry-After"))).isBetween(1, 10);

        given().auth().oauth2(quiet).get("/api/v1/whoami").then().statusCode(200);
        for (int i = 0; i < 10; i++) {
            given().get("/q/health/live").then().statusCode(200); // probes are not limited
        }
        // A bad token is limited like any other caller: a flood of guesses gets 429, not 401s forever.
        String guess = ApiTokens.generate();
        for (int i = 0; i < 3; i++) {
            given().auth().oauth2(guess).get("/api/v1/whoami").then().statusCode(401);
        }
        given().auth().oauth2(guess).get("/api/v1/whoami").then().statusCode(429);
        given().get("/q/metrics").then().body(containsString("reprise_gateway_rate_limited_total"));
    }

    @Test
    void theBudgetRefillsAtTheConfiguredRate() throws Exception {
        String token = token();
        for (int i = 0; i < 3; i++) {
            given().auth().oauth2(token).get("/api/v1/whoami").then().statusCode(200);
        }
        int retryAfter = Integer.parseInt(given().auth().oauth2(token).get("/api/v1/whoami").then().statusCode(429)
                .extract().header("Retry-After"));
        Thread.sleep(retryAfter * 1000L + 200);
        given().auth().oauth2(token).get("/api/v1/whoami").then().statusCode(200);
        given().auth().oauth2(token).get("/api/v1/whoami").then().statusCode(429);
    }

    @Test
    void aProductionGatewayRefusesFileRepositories() {
        given().auth().oauth2(token()).contentType("application/json")
                .body("{\"repository\":\"file:///etc\",\"ref\":\"0123456789abcdef0123456789abcdef01234567\",\"tool\":\"make\"}")
                .post("/api/v1/builds").then().statusCode(400).body("field", equalTo("repository"))
                .body("detail", containsString("file:// repositories are turned off"));
    }

    private String token() {
        String tenant = "t-" + UUID.randomUUID();
        String secret = ApiTokens.generate();
        tenants.ensureTenant(tenant, "rate test").await().atMost(Duration.ofSeconds(5));
        tenants.ensureToken(tenant, ApiTokens.hash(secret), "test", "read-write").await().atMost(Duration.ofSeconds(5));
        return secret;
    }
}
