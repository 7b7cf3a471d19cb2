package dev.reprise.gateway;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.reprise.gateway.service.ApiTokens;
import dev.reprise.gateway.store.TenantStore;
import dev.reprise.testing.RepriseInfrastructure;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * The operator scope: stored like any token scope, written for local mode next to the development
 * token, and the only one that reads the gateway's /api/v1/admin resources (a tenant's admin is a
 * tenant's token).
 */
@QuarkusTest
@WithTestResource(value = RepriseInfrastructure.class,
        initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis"))
class OperatorScopeTest {

    private static final Duration DB = Duration.ofSeconds(5);

    @Inject
    TenantStore tenants;

    @Test
    void localModeWritesAnOperatorTokenOwnerOnlyThatWhoamiReportsAsOperator() throws Exception {
        Path file = Path.of("target/test-operator-token");
        String operator = Files.readString(file).strip();
        assertThat(ApiTokens.wellFormed(operator)).isTrue();
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(file))).isEqualTo("rw-------");
        assertThat(operator).isNotEqualTo(Files.readString(Path.of("target/test-token")).strip());

        given().auth().oauth2(operator).get("/api/v1/whoami").then().statusCode(200).body("scope", equalTo("operator"))
                .body("tenantId", equalTo("dev")).body("tokenName", equalTo("local-operator"));
    }

    @Test
    void theCacheReportNeedsAnOperatorToken() {
        String tenant = "t-" + UUID.randomUUID();
        Response anonymous = given().get("/api/v1/admin/caches");
        problem(anonymous, 401, "missing token");
        assertThat(anonymous.header("WWW-Authenticate")).startsWith("Bearer");
        problem(given().auth().oauth2(ApiTokens.generate()).get("/api/v1/admin/caches"), 401, "unknown or revoked token");
        for (String scope : List.of("read", "read-write", "admin")) {
            problem(given().auth().oauth2(token(tenant, scope)).get("/api/v1/admin/caches"), 403,
                    "needs a token with scope operator; this one is " + scope);
        }
        given().auth().oauth2(token(tenant, "operator")).get("/api/v1/admin/caches").then().statusCode(200)
                .body("caches.find { it.name == 'token' }", org.hamcrest.Matchers.notNullValue());
        // However the path is spelt, a tenant's token never reads it.
        String admin = token(tenant, "admin");
        for (String path : List.of("/api/v1/admin/caches/", "/api/v1//admin/caches", "//api/v1/admin/caches", "/API/v1/admin/caches")) {
            assertThat(given().auth().oauth2(admin).get(path).statusCode()).as(path).isIn(400, 403, 404);
        }
    }

    @Test
    void anOperatorTokenStillWorksOnItsTenantsOwnApi() {
        String operator = token("t-" + UUID.randomUUID(), "operator");
        given().auth().oauth2(operator).get("/api/v1/builds").then().statusCode(200);
    }

    @Test
    void theStoreTakesOperatorAndStillRefusesScopesItDoesNotKnow() {
        String tenant = "t-" + UUID.randomUUID();
        tenants.ensureTenant(tenant, "operator scope test").await().atMost(DB);
        assertThatThrownBy(() -> tenants.ensureToken(tenant, ApiTokens.hash(ApiTokens.generate()), "bad", "root").await().atMost(DB))
                .hasMessageContaining("api_tokens_scope_check");
    }

    private static void problem(Response response, int status, String detail) {
        response.then().statusCode(status).contentType("application/problem+json").body("detail", containsString(detail))
                .body("status", equalTo(status));
    }

    private String token(String tenantId, String scope) {
        String secret = ApiTokens.generate();
        tenants.ensureTenant(tenantId, "operator scope test").await().atMost(DB);
        tenants.ensureToken(tenantId, ApiTokens.hash(secret), "test", scope).await().atMost(DB);
        return secret;
    }
}
