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
 *
 * <p>Small blobs stored together (write-behind batches) share one object, a pack
 * ({@code packs/<id>}); a blob in a pack is named {@code packs/<id>#<offset>-<length>} and read with
 * a ranged GET. A pack is deleted only when no blob names it any more ({@code Cas.release}).
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

    /** Where a blob lies in a pack. */
    public record PackMember(String pack, long offset, long length) {

        /** The blob's object name. */
        public String objectKey() {
            return pack + "#" + offset + "-" + length;
        }
    }

    /** A fresh pack name. */
    public static String newPackKey() {
        return "packs/" + UUID.randomUUID();
    }

    /** The pack and range of a packed blob's object name; empty for a blob of its own. */
    public static java.util.Optional<PackMember> member(String objectKey) {
        int hash = objectKey.indexOf('#');
        if (!objectKey.startsWith("packs/") || hash < 0) {
            return java.util.Optional.empty();
        }
        String range = objectKey.substring(hash + 1);
        int dash = range.indexOf('-');
        return java.util.Optional.of(new PackMember(objectKey.substring(0, hash), Long.parseLong(range.substring(0, dash)),
                Long.parseLong(range.substring(dash + 1))));
    }

    /** Uploads a complete, verified spool file. */
    public Uni<Void> upload(String objectKey, Path file, long size) {
        return Uni.createFrom().completionStage(() -> s3.putObject(
                b -> b.bucket(bucket.bucket()).key(objectKey).contentLength(size).contentType("application/octet-stream"),
                AsyncRequestBody.fromFile(file))).replaceWithVoid();
    }

    /** Downloads an object to {@code target} (which must not exist); false when the object is gone. */
    public Uni<Boolean> download(String objectKey, Path target) {
        java.util.Optional<PackMember> packed = member(objectKey);
        if (packed.isPresent() && packed.get().length() == 0) {
            return Uni.createFrom().item(() -> {
                try {
                    java.nio.file.Files.createFile(target);
                    return true;
                } catch (java.io.IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            });
        }
        return Uni.createFrom().completionStage(() -> s3.getObject(b -> {
                            if (packed.isPresent()) {
                                PackMember m = packed.get();
                                b.bucket(bucket.bucket()).key(m.pack()).range("bytes=" + m.offset() + "-" + (m.offset() + m.length() - 1));
                            } else {
                                b.bucket(bucket.bucket()).key(objectKey);
                            }
                        },
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
        // 416: a pack shorter than the blob's range (overwritten behind our back): its bytes are gone too.
        return cause instanceof NoSuchKeyException || cause instanceof S3Exception s3 && (s3.statusCode() == 404 || s3.statusCode() == 416);
    }
}
