package dev.reprise.artifact.store;

import dev.reprise.s3.BucketGuard;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Path;
import java.util.UUID;
import java.util.concurrent.CompletionException;
import software.amazon.awssdk.core.async.AsyncRequestBody;
import software.amazon.awssdk.core.async.AsyncResponseTransformer;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Blob bytes in the service's own bucket. Every upload gets an object name of its own
 * ({@code blobs/ab/<digest>.<generation>}): S3 makes an object visible only once complete, and the
 * collector deleting one generation can never delete another upload of the same content.
 */
@ApplicationScoped
public class BlobObjects {

    private final S3AsyncClient s3;
    private final BucketGuard bucket;

    public BlobObjects(S3AsyncClient s3, BucketGuard bucket) {
        this.s3 = s3;
        this.bucket = bucket;
    }

    /** A fresh object name for one upload of {@code digest}. */
    public static String newObjectKey(String digest) {
        return "blobs/" + digest.substring(0, 2) + "/" + digest + "." + UUID.randomUUID();
    }

    /** Uploads a complete, verified spool file. */
    public Uni<Void> upload(String objectKey, Path file, long size) {
        return Uni.createFrom().completionStage(() -> s3.putObject(
                b -> b.bucket(bucket.bucket()).key(objectKey).contentLength(size).contentType("application/octet-stream"),
                AsyncRequestBody.fromFile(file))).replaceWithVoid();
    }

    /** Downloads an object to {@code target} (which must not exist); false when the object is gone. */
    public Uni<Boolean> download(String objectKey, Path target) {
        return Uni.createFrom().completionStage(() -> s3.getObject(b -> b.bucket(bucket.bucket()).key(objectKey),
                        AsyncResponseTransformer.toFile(target)))
                .map(ignored -> true)
                .onFailure(BlobObjects::isMissing).recoverWithItem(false);
    }

    /** Deletes an object (deleting a missing one succeeds). */
    public Uni<Void> delete(String objectKey) {
        return Uni.createFrom().completionStage(() -> s3.deleteObject(b -> b.bucket(bucket.bucket()).key(objectKey)))
                .replaceWithVoid();
    }

    private static boolean isMissing(Throwable failure) {
        Throwable cause = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        return cause instanceof NoSuchKeyException || cause instanceof S3Exception s3 && s3.statusCode() == 404;
    }
}
