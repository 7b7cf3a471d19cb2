package dev.reprise.testing;

import static io.restassured.RestAssured.given;
import static org.assertj.core.api.Assertions.assertThat;
import static org.hamcrest.Matchers.containsString;
import static org.hamcrest.Matchers.equalTo;
import static org.hamcrest.Matchers.hasItems;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.quarkus.redis.datasource.RedisDataSource;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.Tuple;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/** Assertions every service's stores test makes the same way. */
public final class StoreChecks {

    public static final String KAFKA_CHECK = "Kafka broker health check";
    public static final String POSTGRES_CHECK = "Reactive PostgreSQL connections health check";
    public static final String REDIS_CHECK = "Redis connection health check";
    public static final String S3_CHECK = "S3 bucket health check";

    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final ObjectMapper JSON = new ObjectMapper();

    private StoreChecks() {
    }

    /** What a published event must look like on the wire. */
    public record ExpectedEvent(String topic, String key, String type, String source, long seq) {
    }

    /**
     * Runs {@code publish}, then reads the topic from where it ended before, and checks that a
     * record with the expected key arrived as a structured CloudEvent with this type, source
     * and sequence.
     *
     * @return the event's {@code data}, for the caller's own checks
     */
    public static JsonNode assertPublished(String bootstrapServers, ExpectedEvent expected, Runnable publish)
            throws Exception {
        try (KafkaTopicWatcher watcher = new KafkaTopicWatcher(bootstrapServers, expected.topic())) {
            publish.run();
            ConsumerRecord<String, String> record = watcher.await(r -> expected.key().equals(r.key()), TIMEOUT);
            JsonNode event = JSON.readTree(record.value());
            assertThat(event.path("specversion").asText()).isEqualTo("1.0");
            assertThat(event.path("type").asText()).isEqualTo(expected.type());
            assertThat(event.path("source").asText()).isEqualTo(expected.source());
            assertThat(event.path("partitionkey").asText()).isEqualTo(expected.key());
            assertThat(event.path("seq").asLong()).isEqualTo(expected.seq());
            assertThat(event.path("id").asText()).isNotBlank();
            return event.path("data");
        }
    }

    /** A row to write, find again by its key, and delete; {@code check} asserts on what was read. */
    public record RowRoundTrip(String insertSql, Tuple insertArgs, String selectSql, String deleteSql, Tuple key,
            Consumer<Row> check) {
    }

    /** Writes a row through the service's own pool, reads exactly that row back, and deletes it. */
    public static void assertRowRoundTrip(Pool pool, RowRoundTrip trip) {
        try {
            pool.preparedQuery(trip.insertSql()).execute(trip.insertArgs()).await().atMost(TIMEOUT);
            RowSet<Row> rows = pool.preparedQuery(trip.selectSql()).execute(trip.key()).await().atMost(TIMEOUT);
            assertThat(rows.size()).isEqualTo(1);
            trip.check().accept(rows.iterator().next());
        } finally {
            pool.preparedQuery(trip.deleteSql()).execute(trip.key()).await().atMost(TIMEOUT);
        }
        assertThat(pool.preparedQuery(trip.selectSql()).execute(trip.key()).await().atMost(TIMEOUT).size()).isZero();
    }

    /** Puts an object into {@code bucket}, reads the same bytes back, and deletes it. */
    public static void assertS3RoundTrip(S3AsyncClient s3, String bucket, String service) throws Exception {
        String key = "test/" + service + "/" + UUID.randomUUID();
        byte[] body = ("stored by " + service + " as " + key).getBytes(StandardCharsets.UTF_8);
        try {
            s3.putObject(b -> b.bucket(bucket).key(key), AsyncRequestBody.fromBytes(body)).get(10, TimeUnit.SECONDS);
            byte[] read = s3.getObject(b -> b.bucket(bucket).key(key), AsyncResponseTransformer.toBytes())
                    .get(10, TimeUnit.SECONDS).asByteArray();
            assertThat(read).isEqualTo(body);
        } finally {
            s3.deleteObject(b -> b.bucket(bucket).key(key)).get(10, TimeUnit.SECONDS);
        }
    }

    /** Live, ready with exactly these checks among the UP ones, and metrics served. */
    public static void assertHealthyWith(String... readinessChecks) {
        given().get("/q/health/ready").then().statusCode(200)
                .body("status", equalTo("UP"))
                .body("checks.name", hasItems(readinessChecks));
        given().get("/q/health/live").then().statusCode(200).body("status", equalTo("UP"));
        given().get("/q/metrics").then().statusCode(200).body(containsString("jvm_memory_used_bytes"));
    }

    /** Writes, reads back and deletes a uniquely named key, under the service's own prefix. */
    public static void assertRedisRoundTrip(RedisDataSource redis, String service) {
        String key = "reprise:test:" + service + ":" + UUID.randomUUID();
        String value = "value-" + UUID.randomUUID();
        try {
            redis.value(String.class).setex(key, 30, value);
            assertThat(redis.value(String.class).get(key)).isEqualTo(value);
        } finally {
            redis.key().del(key);
        }
        assertThat(redis.value(String.class).get(key)).isNull();
    }
}
