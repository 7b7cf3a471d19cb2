package dev.reprise.artifact;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reprise.artifact.messaging.ArtifactEventPublisher;
import dev.reprise.events.BlobStored;
import dev.reprise.events.Topics;
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

/** artifact-service against its real stores: its migrated schema, Redis, Kafka, its S3 bucket and its health. */
@QuarkusTest
@WithTestResource(value = RepriseInfrastructure.class, initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis,s3"))
class ArtifactStoresTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @Inject
    Pool pool;
    @Inject
    RedisDataSource redis;
    @Inject
    ArtifactEventPublisher publisher;
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
                INSERT INTO blobs (digest, size_bytes) VALUES ($1, $2)""",
                Tuple.of(id, 4096L),
                "SELECT size_bytes FROM blobs WHERE digest = $1",
                "DELETE FROM blobs WHERE digest = $1",
                Tuple.of(id),
                row -> assertThat(row.getLong("size_bytes")).isEqualTo(4096L)));
    }

    @Test
    void redisRoundTrip() {
        StoreChecks.assertRedisRoundTrip(redis, "artifact");
    }

    @Test
    void anEventReachesKafkaAsAVersionedCloudEvent() throws Exception {
        String subject = UUID.randomUUID().toString();

        JsonNode data = StoreChecks.assertPublished(bootstrap,
                new ExpectedEvent(Topics.ARTIFACT_EVENTS, subject, "dev.reprise.artifact.blob-stored.v1", "/reprise/artifact-service", 3),
                () -> publisher.publish(subject, subject, 3, new BlobStored(subject, 4, "dev")).await().atMost(TIMEOUT));

        assertThat(data.path("tenantId").asText()).isEqualTo("dev");
    }

    @Test
    void anObjectPutInTheOwnBucketIsReadBack() throws Exception {
        assertThat(bucket.bucket()).isEqualTo("reprise-cas");
        StoreChecks.assertS3RoundTrip(s3, bucket.bucket(), "artifact-service");
    }
}
