package dev.reprise.replay;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reprise.events.CacheEntryEvicted;
import dev.reprise.events.Topics;
import dev.reprise.replay.messaging.CacheEventPublisher;
import dev.reprise.s3.BucketGuard;
import dev.reprise.testing.RepriseInfrastructure;
import dev.reprise.testing.StoreChecks;
import dev.reprise.testing.StoreChecks.ExpectedEvent;
import dev.reprise.testing.StoreChecks.RowRoundTrip;
import io.quarkus.redis.datasource.RedisDataSource;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.UUID;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/** replay-service against its real stores: its migrated schema, Redis, Kafka, its S3 bucket and its health. */
@QuarkusTest
@WithTestResource(value = RepriseInfrastructure.class, initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis,s3"))
class ReplayStoresTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @Inject
    Pool pool;
    @Inject
    RedisDataSource redis;
    @Inject
    CacheEventPublisher publisher;
    @Inject
    S3AsyncClient s3;
    @Inject
    BucketGuard bucket;
    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @Test
    void readinessReportsEveryStoreUp() {
        StoreChecks.assertHealthyWith(StoreChecks.KAFKA_CHECK, StoreChecks.POSTGRES_CHECK, StoreChecks.REDIS_CHECK, StoreChecks.S3_CHECK);
    }

    @Test
    void aRowWrittenToTheMigratedSchemaIsReadBack() {
        String id = UUID.randomUUID().toString().replace("-", "") + UUID.randomUUID().toString().replace("-", "");
        StoreChecks.assertRowRoundTrip(pool, new RowRoundTrip("""
                INSERT INTO recordings (cache_key, tenant_id, build_id, repository, commit_sha, tool, status, object_key,
                    bytes, duration_ms, expires_at)
                VALUES ($1, 'test', 'b-1', 'https://example.org/r.git', $2, 'npm', 'SUCCESS', $3, 3, 10,
                        now() + interval '1 day')""",
                Tuple.of(id, "a".repeat(40), "recordings/" + id + ".gz"),
                "SELECT object_key, status FROM recordings WHERE cache_key = $1",
                "DELETE FROM recordings WHERE cache_key = $1",
                Tuple.of(id),
                row -> assertThat(row.getString("object_key")).isEqualTo("recordings/" + id + ".gz")));
    }

    @Test
    void redisRoundTrip() {
        StoreChecks.assertRedisRoundTrip(redis, "replay");
    }

    @Test
    void anEventReachesKafkaAsAVersionedCloudEvent() throws Exception {
        String subject = UUID.randomUUID().toString();

        JsonNode data = StoreChecks.assertPublished(bootstrap,
                new ExpectedEvent(Topics.CACHE_EVENTS, subject, "dev.reprise.cache.evicted.v1", "/reprise/replay-service", 3),
                () -> publisher.publish(subject, subject, 3, new CacheEntryEvicted(subject, "expired")).await().atMost(TIMEOUT));

        assertThat(data.path("reason").asText()).isEqualTo("expired");
    }

    @Test
    void anObjectPutInTheOwnBucketIsReadBack() throws Exception {
        assertThat(bucket.bucket()).isEqualTo("reprise-recordings");
        StoreChecks.assertS3RoundTrip(s3, bucket.bucket(), "replay-service");
    }
}
