package dev.reprise.replay.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reprise.replay.record.RecordedBuilds;
import dev.reprise.replay.record.Recording;
import dev.reprise.replay.store.RecordingIndex;
import dev.reprise.replay.store.RecordingObjects;
import dev.reprise.testing.RepriseInfrastructure;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import io.smallrye.mutiny.Uni;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Decoded recordings are kept in memory by object: a replayed recording is read from S3 once, and
 * the index still decides what is served, so an invalidated key is never replayed from memory.
 */
@QuarkusTest
@WithTestResource(value = RepriseInfrastructure.class, initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis,s3"))
class RecordingMemoryCacheTest {

    private static final Duration WAIT = Duration.ofSeconds(30);

    @Inject
    RecordedBuilds recorded;
    @Inject
    RecordingIndex index;
    @Inject
    RecordingObjects objects;
    @Inject
    ObjectMapper json;

    @Test
    void aReplayedRecordingIsServedFromMemoryUntilTheIndexDropsIt() {
        String tenant = "t-" + UUID.randomUUID();
        String key = key();
        String buildId = UUID.randomUUID().toString();
        TestRecordings.store(index, objects, json, key, buildId, tenant, "file:///srv/mem", 100);

        // Many sockets asking at once all get the whole recording.
        List<Optional<Recording>> concurrent = Uni.join().all(IntStream.range(0, 16)
                .mapToObj(i -> recorded.byCacheKey(key)).toList()).andFailFast().await().atMost(WAIT);
        Recording first = concurrent.get(0).orElseThrow();
        assertThat(first.frames()).hasSize(6);
        assertThat(concurrent).allSatisfy(r -> assertThat(r).contains(first));

        // With the object gone from S3, the cached copy is what serves it.
        objects.delete(RecordingObjects.keyFor(key, buildId)).await().atMost(WAIT);
        assertThat(recorded.byCacheKey(key).await().atMost(WAIT)).contains(first);
        assertThat(recorded.byBuildId(buildId).await().atMost(WAIT)).contains(first);

        // Invalidated in the index: never served again, memory or not.
        assertThat(index.invalidateKey(tenant, key).await().atMost(WAIT)).hasSize(1);
        assertThat(recorded.byCacheKey(key).await().atMost(WAIT)).isEmpty();
    }

    @Test
    void aRecordingNeverReadIsReadFromS3AndAFailedReadIsNotKept() {
        String tenant = "t-" + UUID.randomUUID();
        String key = key();
        String buildId = UUID.randomUUID().toString();
        TestRecordings.store(index, objects, json, key, buildId, tenant, "file:///srv/mem", 100);
        String objectKey = RecordingObjects.keyFor(key, buildId);
        byte[] stored = objects.get(objectKey).await().atMost(WAIT);
        objects.delete(objectKey).await().atMost(WAIT);

        assertThatThrownBy(() -> recorded.byCacheKey(key).await().atMost(WAIT)).as("not in memory, not in S3").isInstanceOf(software.amazon.awssdk.services.s3.model.NoSuchKeyException.class);

        // Once the object is back, the next read succeeds: the failure was not cached.
        objects.put(objectKey, stored).await().atMost(WAIT);
        assertThat(recorded.byCacheKey(key).await().atMost(WAIT)).hasValueSatisfying(r -> assertThat(r.frames()).hasSize(6));
    }

    private static String key() {
        return UUID.randomUUID().toString().replace("-", "") + "0".repeat(32);
    }
}
