package dev.reprise.image;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reprise.events.ImageBuildFailed;
import dev.reprise.events.Topics;
import dev.reprise.image.messaging.ImageEventPublisher;
import dev.reprise.testing.RepriseInfrastructure;
import dev.reprise.testing.TestGateway;
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

/** image-cache-service against its real stores: its migrated schema, Redis, Kafka and its health. */
@QuarkusTest
@WithTestResource(value = RepriseInfrastructure.class, initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis"))
@WithTestResource(TestGateway.class) // the same resources as ImageApiTest: one application for both
class ImageCacheStoresTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @Inject
    Pool pool;
    @Inject
    RedisDataSource redis;
    @Inject
    ImageEventPublisher publisher;
    @ConfigProperty(name = "kafka.bootstrap.servers")
    String bootstrap;

    @Test
    void readinessReportsEveryStoreUp() {
        StoreChecks.assertHealthyWith(StoreChecks.KAFKA_CHECK, StoreChecks.POSTGRES_CHECK, StoreChecks.REDIS_CHECK);
    }

    @Test
    void aRowWrittenToTheMigratedSchemaIsReadBack() {
        String id = UUID.randomUUID().toString().replace("-", "") + UUID.randomUUID().toString().replace("-", "");
        StoreChecks.assertRowRoundTrip(pool, new RowRoundTrip("""
                INSERT INTO images (id, dependency_hash, tag, base_image, status) VALUES ($1, $2, 'test', 'debian:bookworm', 'PENDING')""",
                Tuple.of(id, "e".repeat(56) + id.substring(0, 8)),
                "SELECT status FROM images WHERE id = $1",
                "DELETE FROM images WHERE id = $1",
                Tuple.of(id),
                row -> assertThat(row.getString("status")).isEqualTo("PENDING")));
    }

    @Test
    void redisRoundTrip() {
        StoreChecks.assertRedisRoundTrip(redis, "image");
    }

    @Test
    void anEventReachesKafkaAsAVersionedCloudEvent() throws Exception {
        String subject = UUID.randomUUID().toString();

        JsonNode data = StoreChecks.assertPublished(bootstrap,
                new ExpectedEvent(Topics.IMAGE_EVENTS, subject, "dev.reprise.image.build-failed.v1", "/reprise/image-cache-service", 3),
                () -> publisher.publish(subject, subject, 3, new ImageBuildFailed(subject, subject, "test")).await().atMost(TIMEOUT));

        assertThat(data.path("reason").asText()).isEqualTo("test");
    }
}
