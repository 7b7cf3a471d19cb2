package dev.reprise.runner;

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

/** The runner serves cache-support's cache report like every service: to an operator token only. */
@QuarkusTest
@WithTestResource(value = RepriseInfrastructure.class, initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis"))
@WithTestResource(TestGateway.class)
class CacheReportAccessTest {

    @Test
    void theCacheReportNeedsAnOperatorToken() {
        Response anonymous = given().get("/api/v1/admin/caches");
        anonymous.then().statusCode(401).contentType("application/problem+json");
        assertThat(anonymous.header("WWW-Authenticate")).startsWith("Bearer");
        String tenant = TestGateway.newTenant();
        for (String scope : List.of("read", "read-write", "admin")) {
            given().header("Authorization", "Bearer " + TestGateway.token(tenant, scope)).get("/api/v1/admin/caches").then().statusCode(403)
                    .body("detail", containsString("needs a token with scope operator"));
        }
        given().header("Authorization", "Bearer " + TestGateway.token(TestGateway.newTenant(), "operator")).get("/api/v1/admin/caches")
                .then().statusCode(200).body("enabled", equalTo(true));
    }
}
