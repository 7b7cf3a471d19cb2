package dev.reprise.runner;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reprise.events.BuildOutput;
import dev.reprise.events.OutputStream;
import dev.reprise.events.Topics;
import dev.reprise.runner.messaging.BuildEventPublisher;
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

/** build-runner-service against its real stores: its migrated schema, Redis, Kafka and its health. */
@QuarkusTest
@WithTestResource(value = RepriseInfrastructure.class, initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis"))
class BuildRunnerStoresTest {

    private static final Duration TIMEOUT = Duration.ofSeconds(10);

    @Inject
    Pool pool;
    @Inject
    RedisDataSource redis;
    @Inject
    BuildEventPublisher publisher;
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
                INSERT INTO executions (build_id, cache_key, runner_id, status) VALUES ($1, $2, 'test-runner', 'RUNNING')""",
                Tuple.of(id, "d".repeat(64)),
                "SELECT runner_id, status FROM executions WHERE build_id = $1",
                "DELETE FROM executions WHERE build_id = $1",
                Tuple.of(id),
                row -> assertThat(row.getString("status")).isEqualTo("RUNNING")));
    }

    @Test
    void redisRoundTrip() {
        StoreChecks.assertRedisRoundTrip(redis, "runner");
    }

    @Test
    void anEventReachesKafkaAsAVersionedCloudEvent() throws Exception {
        String subject = UUID.randomUUID().toString();

        JsonNode data = StoreChecks.assertPublished(bootstrap,
                new ExpectedEvent(Topics.BUILD_EVENTS, subject, "dev.reprise.build.output.v1", "/reprise/build-runner-service", 3),
                () -> publisher.publish(subject, subject, 3, new BuildOutput(subject, OutputStream.STDOUT, "line 1\n", 12)).await().atMost(TIMEOUT));

        assertThat(data.path("chunk").asText()).isEqualTo("line 1\n");
    }
}
