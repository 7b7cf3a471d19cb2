package dev.reprise.runner;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reprise.events.BuildOutput;
import dev.reprise.events.OutputStream;
import dev.reprise.events.Topics;
import dev.reprise.events.BuildStatus;
import dev.reprise.runner.messaging.BuildEventPublisher;
import dev.reprise.runner.store.ExecutionStore;
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
    @Inject
    ExecutionStore executions;
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
    void aTenantAtItsShareIsNotClaimedForButOthersAndDuplicatesAre() {
        String tenant = "share-" + UUID.randomUUID();
        Duration stale = Duration.ofSeconds(30);
        String first = UUID.randomUUID().toString();
        String second = UUID.randomUUID().toString();
        String third = UUID.randomUUID().toString();

        assertThat(executions.claim(first, "a".repeat(64), tenant, "runner-1", stale, Duration.ofMillis(100), 2))
                .isInstanceOf(ExecutionStore.Claim.Fresh.class);
        assertThat(executions.claim(second, "b".repeat(64), tenant, "runner-2", stale, Duration.ofMillis(100), 2))
                .isInstanceOf(ExecutionStore.Claim.Fresh.class);
        // Two running on the runners together: the third yields, and no row is written for it.
        assertThat(executions.claim(third, "c".repeat(64), tenant, "runner-1", stale, Duration.ofMillis(100), 2))
                .isEqualTo(new ExecutionStore.Claim.OverShare(2));
        assertThat(pool.preparedQuery("SELECT 1 FROM executions WHERE build_id = $1").execute(Tuple.of(third)).await().atMost(TIMEOUT))
                .isEmpty();
        // Another tenant is not counted against it; no share (a free slot beyond the last) claims it.
        assertThat(executions.claim(UUID.randomUUID().toString(), "d".repeat(64), tenant + "-other", "runner-1", stale,
                Duration.ofMillis(100), 2)).isInstanceOf(ExecutionStore.Claim.Fresh.class);
        // A finished build frees its place in the share.
        executions.finish(first, BuildStatus.SUCCESS, 0);
        assertThat(executions.claim(third, "c".repeat(64), tenant, "runner-1", stale, Duration.ofMillis(100), 2))
                .isInstanceOf(ExecutionStore.Claim.Fresh.class);
        // A build finished already is reported as such, whatever the share.
        assertThat(executions.claim(first, "a".repeat(64), tenant, "runner-1", stale, Duration.ofMillis(100), 2))
                .isEqualTo(new ExecutionStore.Claim.AlreadyFinished("SUCCESS"));
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
