package dev.reprise.gateway;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reprise.events.BuildRequested;
import dev.reprise.events.Topics;
import dev.reprise.gateway.messaging.BuildRequestPublisher;
import dev.reprise.gateway.service.ApiTokens;
import dev.reprise.gateway.store.TenantStore;
import dev.reprise.testing.RepriseInfrastructure;
import dev.reprise.testing.StoreChecks;
import dev.reprise.testing.StoreChecks.ExpectedEvent;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;

/** The gateway against its real stores: its migrated tables, Redis, Kafka, and its health. */
@QuarkusTest
@WithTestResource(value = RepriseInfrastructure.class,
        initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis"))
class GatewayStoresTest {

    @Inject
    TenantStore tenants;
    @Inject
    BuildRequestPublisher publisher;
    @Inject
    RedisDataSource redis;
    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @Test
    void readinessReportsEveryStoreUp() {
        StoreChecks.assertHealthyWith(StoreChecks.KAFKA_CHECK, StoreChecks.POSTGRES_CHECK, StoreChecks.REDIS_CHECK);
    }

    @Test
    void theLocalTokenWrittenAtStartAuthenticatesAsTheDevTenant() throws Exception {
        String token = Files.readString(Path.of("target/test-token")).strip();
        assertThat(ApiTokens.wellFormed(token)).isTrue();

        given().header("Authorization", "Bearer " + token).get("/api/v1/whoami").then().statusCode(200)
                .body("tenantId", equalTo("dev")).body("scope", equalTo("read-write"));
    }

    @Test
    void aTokenRowWrittenToTheMigratedTableIsReadBack() {
        String tenant = "t-" + UUID.randomUUID();
        String token = ApiTokens.generate();
        tenants.ensureTenant(tenant, "Stores test").await().atMost(Duration.ofSeconds(5));
        tenants.ensureToken(tenant, ApiTokens.hash(token), "ci", "read").await().atMost(Duration.ofSeconds(5));

        var grant = tenants.findActiveToken(ApiTokens.hash(token)).await().atMost(Duration.ofSeconds(5));
        assertThat(grant).hasValueSatisfying(g -> {
            assertThat(g.tenantId()).isEqualTo(tenant);
            assertThat(g.scope()).isEqualTo("read");
        });
        given().header("Authorization", "Bearer " + token).get("/api/v1/whoami").then().statusCode(200)
                .body("tenantId", equalTo(tenant)).body("tenantName", equalTo("Stores test"));
    }

    @Test
    void missingMalformedAndUnknownTokensGet401ProblemsSayingWhatToFix() {
        given().get("/api/v1/whoami").then().statusCode(401)
                .contentType("application/problem+json")
                .header("WWW-Authenticate", containsString("Bearer"))
                .body("status", equalTo(401)).body("detail", containsString("missing token"));
        given().header("Authorization", "Basic dXNlcjpwYXNz").get("/api/v1/whoami").then().statusCode(401)
                .body("detail", containsString("Bearer"));
        given().header("Authorization", "Bearer nope").get("/api/v1/whoami").then().statusCode(401)
                .body("detail", containsString("malformed token"));
        given().header("Authorization", "Bearer " + ApiTokens.generate()).get("/api/v1/whoami").then()
                .statusCode(401).body("detail", equalTo("unknown or revoked token"));
    }

    @Test
    void redisRoundTrip() {
        StoreChecks.assertRedisRoundTrip(redis, "gateway");
    }

    @Test
    void aBuildRequestReachesKafkaAsACloudEventKeyedByCacheKey() throws Exception {
        String buildId = "b-" + UUID.randomUUID();
        String cacheKey = UUID.randomUUID().toString().replace("-", "") + "0".repeat(32);
        BuildRequested request = new BuildRequested(buildId, "dev", cacheKey, "file:///nonexistent/reprise-test.git", "main",
                "a".repeat(40), "npm", null, Map.of(), false, Instant.now(), null);

        JsonNode data = StoreChecks.assertPublished(bootstrap, new ExpectedEvent(Topics.BUILD_REQUESTS, cacheKey,
                        "dev.reprise.build.requested.v1", "/reprise/gateway-service", 1),
                () -> publisher.publish(request).await().atMost(Duration.ofSeconds(10)));

        assertThat(data.path("buildId").asText()).isEqualTo(buildId);
        assertThat(data.path("repository").asText()).isEqualTo("file:///nonexistent/reprise-test.git");
    }
}
