package dev.reprise.replay;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import dev.reprise.events.StreamTickets;
import dev.reprise.testing.RepriseInfrastructure;
import dev.reprise.testing.TestGateway;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.response.Response;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * replay-service's cache report is its internal API's like the rest: the gateway's service token
 * reads it, and so does an operator token (checked with the gateway); a tenant's token, its admin's
 * included, does not. Every request here sets its own credentials (noFilters: other tests add the
 * service token to every request).
 */
@QuarkusTest
@WithTestResource(value = RepriseInfrastructure.class, initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis,s3"))
@WithTestResource(TestGateway.class)
class CacheReportAccessTest {

    private static final String REPORT = "/api/v1/admin/caches";

    @Test
    void theServiceTokenOrAnOperatorTokenReadsTheCacheReportNothingElseDoes() {
        Response anonymous = given().noFilters().get(REPORT);
        anonymous.then().statusCode(401).contentType("application/problem+json").body("detail", containsString("missing credentials"));
        assertThat(anonymous.header("WWW-Authenticate")).startsWith("Bearer");
        String forged = TestAccess.TICKETS.serviceToken().substring(1) + "0";
        given().noFilters().header(StreamTickets.SERVICE_HEADER, forged).get(REPORT).then().statusCode(401);

        String tenant = TestGateway.newTenant();
        for (String scope : List.of("read", "read-write", "admin")) {
            given().noFilters().header("Authorization", "Bearer " + TestGateway.token(tenant, scope)).get(REPORT).then().statusCode(403)
                    .contentType("application/problem+json").body("detail", containsString("needs a token with scope operator"))
                    .body("status", equalTo(403));
        }

        given().noFilters().header(StreamTickets.SERVICE_HEADER, TestAccess.TICKETS.serviceToken()).get(REPORT).then().statusCode(200)
                .body("caches.find { it.name == 'recording' }", org.hamcrest.Matchers.notNullValue());
        given().noFilters().header("Authorization", "Bearer " + TestGateway.token(TestGateway.newTenant(), "operator")).get(REPORT).then().statusCode(200)
                .body("enabled", equalTo(true));
    }
}
