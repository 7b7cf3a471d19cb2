package dev.reprise.artifact;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;

import dev.reprise.testing.RepriseInfrastructure;
import dev.reprise.testing.TestGateway;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** With anonymous reads configured, requests without credentials read one tenant's entries and never write. */
@QuarkusTest
@TestProfile(AnonymousReadTest.PublicTenant.class)
@WithTestResource(value = RepriseInfrastructure.class, initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis,s3"))
@WithTestResource(TestGateway.class)
class AnonymousReadTest {

    static final String PUBLIC = "public-anonymous-read-test";

    /** A fixed name: the profile is loaded by Quarkus's class loader as well as the test's. */
    public static class PublicTenant implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("reprise.auth.anonymous-read-tenant", PUBLIC);
        }
    }

    @Test
    void anonymousRequestsReadThePublicTenantOnly() {
        String publisher = TestGateway.token(PUBLIC, "read-write");
        String other = TestGateway.token(TestGateway.newTenant(), "read-write");
        byte[] body = "public artifact".getBytes();
        given().auth().oauth2(publisher).body(body).put("/ccache/anon/entry").then().statusCode(200);
        given().auth().oauth2(other).body("private".getBytes()).put("/ccache/anon/private").then().statusCode(200);

        assertThat(given().get("/ccache/anon/entry").then().statusCode(200).extract().asByteArray()).isEqualTo(body);
        given().get("/ccache/anon/private").then().statusCode(404);
        given().body(body).put("/ccache/anon/entry").then().statusCode(403).body("detail", containsString("anonymous requests may only read"));
        // A wrong token is still refused, never downgraded to anonymous.
        given().auth().oauth2("rpr_" + "y".repeat(43)).get("/ccache/anon/entry").then().statusCode(401);
    }

    @Test
    void anonymousRequestsAreNeverAnOperator() {
        given().get("/api/v1/admin/caches").then().statusCode(401).body("detail", containsString("send an operator token"));
        given().queryParam("maxBytes", Long.MAX_VALUE).post("/api/v1/artifacts/prune").then().statusCode(401);
    }
}
