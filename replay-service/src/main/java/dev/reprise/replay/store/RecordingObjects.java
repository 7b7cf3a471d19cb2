package dev.reprise.replay.store;

import dev.reprise.s3.BucketGuard;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.services.s3.S3AsyncClient;

/** Recordings as objects in the replay service's own bucket. */
@ApplicationScoped
public class RecordingObjects {

    private final S3AsyncClient s3;
    private final BucketGuard bucket;

    public RecordingObjects(S3AsyncClient s3, BucketGuard bucket) {
        this.s3 = s3;
        this.bucket = bucket;
    }

    public static String keyFor(String cacheKey, String buildId) {
        return "recordings/" + cacheKey + "/" + buildId + ".jsonl.gz";
    }

    /** Completes once S3 has the whole object (a PUT is atomic: readers never see part of it). */
    public Uni<Void> put(String key, byte[] gzipped) {
        return Uni.createFrom().completionStage(() -> s3.putObject(b -> b.bucket(bucket.bucket()).key(key)
                        .contentType("application/x-ndjson").contentEncoding("gzip"), AsyncRequestBody.fromBytes(gzipped)))
                .replaceWithVoid();
    }

    /** Deletes the object (deleting a missing object succeeds: removal is idempotent). */
    public Uni<Void> delete(String key) {
        return Uni.createFrom().completionStage(() -> s3.deleteObject(b -> b.bucket(bucket.bucket()).key(key)))
                .replaceWithVoid();
    }

    public Uni<byte[]> get(String key) {
        return Uni.createFrom().completionStage(() -> s3.getObject(b -> b.bucket(bucket.bucket()).key(key),
                AsyncResponseTransformer.toBytes())).map(response -> response.asByteArray());
    }
}
