package dev.reprise.gateway;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;

import dev.reprise.cache.RedisCaches;
import dev.reprise.gateway.service.ApiTokens;
import dev.reprise.gateway.store.TenantStore;
import dev.reprise.gateway.store.TenantStore.TokenGrant;
import dev.reprise.testing.RepriseInfrastructure;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.restassured.http.ContentType;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Token grants cached in Redis are trusted only when the gateway signed them for that token's key:
 * whoever can write Redis cannot forge a grant, nor move one token's grant to another.
 */
@QuarkusTest
@WithTestResource(value = RepriseInfrastructure.class,
        initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis"))
class TokenCacheTest {

    @Inject
    TenantStore tenants;
    @Inject
    RedisCaches caches;
    @Inject
    RedisDataSource redis;

    private final List<String> keys = new ArrayList<>();

    @AfterEach
    void removeCachedGrants() {
        keys.forEach(key -> redis.key().del(key));
    }

    @Test
    void aGrantWrittenStraightIntoRedisIsNotHonoured() {
        String forged = "{\"tenantId\":\"t-victim\",\"tenantName\":\"victim\",\"tokenName\":\"forged\",\"scope\":\"admin\"}";
        String plain = ApiTokens.generate(); // known to no tenant
        String wellFormed = ApiTokens.generate();
        set(plain, forged);
        set(wellFormed, "s1:" + "A".repeat(43) + ":" + forged);

        for (String token : List.of(plain, wellFormed)) {
            given().auth().oauth2(token).get("/api/v1/builds").then().statusCode(401)
                    .body("detail", containsString("unknown or revoked token"));
            given().auth().oauth2(token).contentType(ContentType.JSON).body("{}").post("/api/v1/builds").then().statusCode(401);
        }
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertThat(redis.value(String.class).get(key(plain))).as("the forged grant is dropped").isNull();
            assertThat(redis.value(String.class).get(key(wellFormed))).isNull();
        });
    }

    @Test
    void aGrantTheGatewaySignedIsServedFromRedis() {
        String token = token("t-" + UUID.randomUUID(), "read");
        given().auth().oauth2(token).get("/api/v1/builds").then().statusCode(200);
        assertThat(redis.value(String.class).get(key(token))).as("cached, signed for its key")
                .matches("s1:[A-Za-z0-9_-]{43}:\\{.*\"scope\":\"read\".*");

        // A token PostgreSQL does not know, with a grant the gateway itself cached: Redis answers.
        String cachedOnly = ApiTokens.generate();
        keys.add(key(cachedOnly));
        caches.cache("token", TokenGrant.class)
                .set(ApiTokens.hash(cachedOnly), new TokenGrant("t-" + UUID.randomUUID(), "cached", "cached", "read"))
                .await().atMost(Duration.ofSeconds(5));
        given().auth().oauth2(cachedOnly).get("/api/v1/builds").then().statusCode(200);
    }

    @Test
    void aGrantCopiedFromAnotherTokensKeyIsRefused() {
        String tenant = "t-" + UUID.randomUUID();
        String writer = token(tenant, "read-write");
        given().auth().oauth2(writer).get("/api/v1/builds").then().statusCode(200);
        String signedWriterGrant = redis.value(String.class).get(key(writer));
        assertThat(signedWriterGrant).startsWith("s1:");

        // Onto an unknown token: still unknown.
        String unknown = ApiTokens.generate();
        set(unknown, signedWriterGrant);
        given().auth().oauth2(unknown).get("/api/v1/builds").then().statusCode(401);

        // Onto a read-only token of the same tenant: PostgreSQL says read, so it still may not build.
        String reader = token(tenant, "read");
        set(reader, signedWriterGrant);
        given().auth().oauth2(reader).contentType(ContentType.JSON).body("{\"repository\":\"file:///nowhere\",\"tool\":\"make\"}")
                .post("/api/v1/builds").then().statusCode(403).body("detail", containsString("read-only"));
        given().auth().oauth2(writer).get("/api/v1/builds").then().statusCode(200);
    }

    // --- helpers ---

    private void set(String token, String value) {
        redis.value(String.class).set(key(token), value);
        keys.add(key(token));
    }

    private String key(String token) {
        return "reprise:cache:token:" + ApiTokens.hash(token);
    }

    private String token(String tenantId, String scope) {
        String secret = ApiTokens.generate();
        tenants.ensureTenant(tenantId, "token cache test").await().atMost(Duration.ofSeconds(5));
        tenants.ensureToken(tenantId, ApiTokens.hash(secret), "test", scope).await().atMost(Duration.ofSeconds(5));
        keys.add(key(secret));
        return secret;
    }
}
