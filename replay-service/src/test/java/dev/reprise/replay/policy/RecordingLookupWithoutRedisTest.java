package dev.reprise.replay.policy;

import dev.reprise.replay.TestAccess;
import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reprise.replay.store.RecordingIndex;
import dev.reprise.replay.store.RecordingObjects;
import dev.reprise.testing.RepriseInfrastructure;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.quarkus.test.junit.QuarkusTestProfile;
import io.quarkus.test.junit.TestProfile;
import jakarta.inject.Inject;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** With Redis gone (nothing listens where it should be), lookups still answer, correctly. */
@QuarkusTest
@TestProfile(RecordingLookupWithoutRedisTest.RedisGone.class)
@WithTestResource(value = RepriseInfrastructure.class, initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,s3"))
class RecordingLookupWithoutRedisTest {

    static {
        // Every REST call here is one the gateway makes: with the service token.
        TestAccess.asTheGateway();
    }

    /** Redis at a port nothing listens on. */
    public static class RedisGone implements QuarkusTestProfile {
        @Override
        public Map<String, String> getConfigOverrides() {
            return Map.of("quarkus.redis.hosts", "redis://127.0.0.1:1");
        }
    }

    @Inject
    RecordingIndex index;
    @Inject
    RecordingObjects objects;
    @Inject
    ObjectMapper json;

    @Test
    void everyLookupAnswersFromTheIndexAndRedisErrorsAreCounted() {
        RecordingLookupCacheTest.assertNoStaleReads(index, objects, json);
        assertThat(RecordingLookupCacheTest.recordingCache("hits")).isZero();
        assertThat(RecordingLookupCacheTest.recordingCache("errors")).isPositive();
    }
}
