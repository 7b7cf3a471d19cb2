package dev.reprise.artifact;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;
import static org.hamcrest.Matchers.containsString;

import dev.reprise.artifact.service.Keys;
import dev.reprise.auth.TokenVerifier;
import dev.reprise.auth.WhoAmI;
import dev.reprise.cache.RedisCaches;
import dev.reprise.testing.RepriseInfrastructure;
import dev.reprise.testing.TestGateway;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The gateway's answers about tokens, cached in Redis (auth-support's {@link TokenVerifier}), are
 * trusted only when this service signed them for that token's key: a grant written into Redis by
 * anyone else, or copied from another token, is a miss and the gateway is asked again.
 */
@QuarkusTest
@WithTestResource(value = RepriseInfrastructure.class, initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis,s3"))
@WithTestResource(TestGateway.class)
class TokenCacheTest {

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
        String forged = "{\"tenantId\":\"" + TestGateway.newTenant() + "\",\"tenantName\":\"x\",\"tokenName\":\"forged\",\"scope\":\"admin\"}";
        String plain = unknownToken();
        String wellFormed = unknownToken();
        set(plain, forged);
        set(wellFormed, "s1:" + "A".repeat(43) + ":" + forged);

        for (String token : List.of(plain, wellFormed)) {
            given().auth().oauth2(token).get("/bazel/cas/" + Keys.EMPTY_SHA256).then().statusCode(401)
                    .body("detail", containsString("unknown or revoked token"));
            given().auth().oauth2(token).body("x".getBytes()).put("/ccache/forged/" + UUID.randomUUID()).then().statusCode(401);
        }
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertThat(redis.value(String.class).get(key(plain))).as("the forged grant is dropped").isNull();
            assertThat(redis.value(String.class).get(key(wellFormed))).isNull();
        });
    }

    @Test
    void aSignedGrantIsServedFromRedis() {
        String tenant = TestGateway.newTenant();
        String writer = TestGateway.token(tenant, "read-write");
        keys.add(key(writer));
        given().auth().oauth2(writer).get("/bazel/cas/" + Keys.EMPTY_SHA256).then().statusCode(200);
        assertThat(redis.value(String.class).get(key(writer))).as("cached, signed for its key")
                .matches("s1:[A-Za-z0-9_-]{43}:\\{.*\"scope\":\"read-write\".*");

        // A token the gateway does not know, with a grant this service cached itself: Redis answers.
        String cachedOnly = unknownToken();
        keys.add(key(cachedOnly));
        caches.cache("token", WhoAmI.class).set(TokenVerifier.sha256(cachedOnly), new WhoAmI(tenant, tenant, "cached", "read-write"))
                .await().atMost(Duration.ofSeconds(5));
        String entry = "/ccache/cached/" + UUID.randomUUID();
        given().auth().oauth2(cachedOnly).body("cached grant".getBytes()).put(entry).then().statusCode(200);
        assertThat(given().auth().oauth2(writer).get(entry).then().statusCode(200).extract().asString()).isEqualTo("cached grant");
    }

    @Test
    void aGrantCopiedFromAnotherTokensKeyIsRefused() {
        String tenant = TestGateway.newTenant();
        String writer = TestGateway.token(tenant, "read-write");
        keys.add(key(writer));
        given().auth().oauth2(writer).get("/bazel/cas/" + Keys.EMPTY_SHA256).then().statusCode(200);
        String signedWriterGrant = redis.value(String.class).get(key(writer));
        assertThat(signedWriterGrant).startsWith("s1:");

        // Onto a token the gateway does not know: still unknown.
        String unknown = unknownToken();
        set(unknown, signedWriterGrant);
        given().auth().oauth2(unknown).get("/bazel/cas/" + Keys.EMPTY_SHA256).then().statusCode(401);

        // Onto a read token of the same tenant: the gateway says read, so it still may not write.
        String reader = TestGateway.token(tenant, "read");
        set(reader, signedWriterGrant);
        given().auth().oauth2(reader).body("x".getBytes()).put("/ccache/copied/" + UUID.randomUUID()).then().statusCode(403)
                .body("detail", containsString("read-only"));
    }

    // --- helpers ---

    /** A well-formed token the stand-in gateway answers 401 for. */
    private static String unknownToken() {
        byte[] random = new byte[32];
        new java.security.SecureRandom().nextBytes(random);
        return "rpr_" + Base64.getUrlEncoder().withoutPadding().encodeToString(random);
    }

    private void set(String token, String value) {
        redis.value(String.class).set(key(token), value);
        keys.add(key(token));
    }

    private static String key(String token) {
        return "reprise:cache:token:" + TokenVerifier.sha256(token);
    }
}
