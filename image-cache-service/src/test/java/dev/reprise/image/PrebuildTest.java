package dev.reprise.image;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.reprise.testing.RepriseInfrastructure;
import dev.reprise.testing.TestGateway;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import io.restassured.http.ContentType;
import io.restassured.path.json.JsonPath;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The common configuration is built in the background at start-up; readiness does not wait for it. */
@QuarkusTest
@TestProfile(PrebuildTest.Prebuild.class)
@WithTestResource(value = RepriseInfrastructure.class, initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis"))
@WithTestResource(TestGateway.class)
class PrebuildTest {

    /** Image API calls carry a token (the gateway's whoami is stood in for by {@link TestGateway}). */
    @org.junit.jupiter.api.BeforeAll
    static void authorize() {
        TestGateway.authorizeRestAssured(TestGateway.token(TestGateway.newTenant(), "read-write"));
    }

    /** A common configuration of one small package (the start-up build takes seconds). */
    public static final class Prebuild implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("reprise.images.prebuild.enabled", "true", "reprise.images.prebuild.apt", "sl");
        }
    }

    private static final String COMMON = "{\"dependencies\":[{\"type\":\"apt\",\"name\":\"sl\"}]}";

    @Test
    void theCommonConfigurationIsBuiltAfterStartAndThenResolvesAsAHit() {
        java.time.Instant jvmStart = java.time.Instant.ofEpochMilli(java.lang.management.ManagementFactory.getRuntimeMXBean().getStartTime());
        given().get("/q/health/ready").then().statusCode(200);

        // The start-up resolve built it (or, left by an earlier run, counted a use of it): either way after this JVM began.
        String[] id = new String[1];
        await().atMost(Duration.ofMinutes(5)).pollInterval(Duration.ofSeconds(1)).until(() -> {
            JsonPath page = given().get("/api/v1/images?size=200").then().statusCode(200).extract().jsonPath();
            for (Map<String, Object> image : page.<Map<String, Object>>getList("items")) {
                java.util.List<?> deps = (java.util.List<?>) image.get("dependencies");
                Object used = image.get("lastUsedAt");
                if (deps.size() == 1 && String.valueOf(deps.get(0)).contains("name=sl,") && "COMPLETED".equals(image.get("status"))
                        && used != null && java.time.OffsetDateTime.parse(used.toString()).toInstant().isAfter(jvmStart)) {
                    id[0] = image.get("id").toString();
                    return true;
                }
            }
            return false;
        });
        JsonPath resolved = given().contentType(ContentType.JSON).body(COMMON).post("/api/v1/images/resolve")
                .then().statusCode(200).extract().jsonPath();
        assertThat(resolved.getString("result")).isEqualTo("hit");
        assertThat(resolved.getString("image.id")).isEqualTo(id[0]);
        given().delete("/api/v1/images/" + id[0]).then().statusCode(204); // the next run builds it again
    }
}
