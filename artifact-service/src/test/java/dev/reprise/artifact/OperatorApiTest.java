package dev.reprise.artifact;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.reprise.testing.RepriseInfrastructure;
import dev.reprise.testing.TestGateway;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Store-wide actions (prune, collect, integrity) and the cache report act on every tenant's data:
 * only an operator token does them. A tenant's admin token is a tenant's token: 403 like any other.
 */
@QuarkusTest
@WithTestResource(value = RepriseInfrastructure.class, initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis,s3"))
@WithTestResource(TestGateway.class) // the same resources as ArtifactApiTest: one application for both
class OperatorApiTest {

    private final String tenant = TestGateway.newTenant();
    private final String reader = TestGateway.token(tenant, "read");
    private final String writer = TestGateway.token(tenant, "read-write");
    private final String admin = TestGateway.token(tenant, "admin");
    private final String operator = TestGateway.token(TestGateway.newTenant(), "operator");

    @Test
    void pruneCollectAndIntegrityAreAnOperatorsNotATenantAdmins() {
        // maxBytes far above the store's size prunes nothing; integrity re-hashes one blob.
        for (String call : List.of("/api/v1/artifacts/prune?maxBytes=" + Long.MAX_VALUE, "/api/v1/artifacts/collect",
                "/api/v1/artifacts/integrity?batch=1")) {
            Response anonymous = given().post(call);
            problem(anonymous, 401, "missing credentials");
            assertThat(anonymous.header("WWW-Authenticate")).as(call).startsWith("Bearer");
            for (String token : List.of(reader, writer, admin)) {
                problem(given().auth().oauth2(token).post(call), 403, "needs a token with scope operator");
            }
            given().auth().oauth2(operator).post(call).then().statusCode(200);
        }
        given().auth().oauth2(operator).queryParam("maxBytes", Long.MAX_VALUE).post("/api/v1/artifacts/prune").then()
                .body("entries", equalTo(0));
        // Refused before the arguments are even looked at: a tenant learns nothing from them.
        problem(given().auth().oauth2(admin).post("/api/v1/artifacts/prune"), 403, "scope operator");
        problem(given().auth().oauth2(operator).post("/api/v1/artifacts/prune"), 400, "maxBytes is required");
    }

    @Test
    void theTenantsOwnAdminApiStillTakesItsTenantsTokens() {
        given().auth().oauth2(admin).get("/api/v1/artifacts/stats").then().statusCode(200).body("tenant.tenantId", equalTo(tenant));
        given().auth().oauth2(writer).queryParam("prefix", "nothing-here/").delete("/api/v1/artifacts/entries").then().statusCode(200)
                .body("removed", equalTo(0));
    }

    @Test
    void theCacheReportNeedsAnOperatorToken() {
        Response anonymous = given().get("/api/v1/admin/caches");
        problem(anonymous, 401, "missing credentials");
        assertThat(anonymous.header("WWW-Authenticate")).startsWith("Bearer");
        problem(given().auth().oauth2("rpr_" + "z".repeat(43)).get("/api/v1/admin/caches"), 401, "unknown or revoked token");
        for (String token : List.of(reader, writer, admin)) {
            problem(given().auth().oauth2(token).get("/api/v1/admin/caches"), 403, "needs a token with scope operator");
        }
        given().auth().oauth2(operator).get("/api/v1/admin/caches").then().statusCode(200).body("enabled", equalTo(true))
                .body("caches.find { it.name == 'token' }", org.hamcrest.Matchers.notNullValue());
    }

    private static void problem(Response response, int status, String detail) {
        response.then().statusCode(status).contentType("application/problem+json").body("detail", containsString(detail))
                .body("status", equalTo(status));
    }
}
