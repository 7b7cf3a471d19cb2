package dev.reprise.s3;

import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.concurrent.CompletionException;
import org.jboss.logging.Logger;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.BucketAlreadyOwnedByYouException;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.S3Exception;

/**
 * Makes sure the service's bucket exists. Tried at start, but a missing S3 does not stop the
 * service from starting: readiness stays DOWN and retries until S3 answers. The first time the
 * bucket is there, its configured settings are applied in the background ({@link BucketSettingsApplier}).
 */
@ApplicationScoped
public class BucketGuard {

    private static final Logger LOG = Logger.getLogger(BucketGuard.class);

    private final S3AsyncClient s3;
    private final BucketConfig config;
    private final BucketSettingsApplier settings;

    public BucketGuard(S3AsyncClient s3, BucketConfig config, BucketSettingsApplier settings) {
        this.s3 = s3;
        this.config = config;
        this.settings = settings;
    }

    void onStart(@Observes StartupEvent event) {
        ensureBucket().subscribe().with(
                ignored -> LOG.infof("S3 bucket %s is ready", config.bucket()),
                failure -> LOG.warnf("S3 bucket %s is not ready yet (%s); readiness will retry", config.bucket(),
                        failure.getMessage()));
    }

    /** The bucket name this service owns. */
    public String bucket() {
        return config.bucket();
    }

    /**
     * Completes when the bucket exists, creating it if it does not. Does not wait for the bucket's
     * settings: those never hold up readiness.
     */
    public Uni<Void> ensureBucket() {
        return Uni.createFrom().completionStage(() -> s3.headBucket(b -> b.bucket(config.bucket())))
                .replaceWithVoid()
                .onFailure(BucketGuard::isMissingBucket).recoverWithUni(this::createBucket)
                .invoke(() -> settings.applyOnce());
    }

    private Uni<Void> createBucket() {
        return Uni.createFrom().completionStage(() -> s3.createBucket(b -> b.bucket(config.bucket())))
                .replaceWithVoid()
                .onFailure(e -> unwrap(e) instanceof BucketAlreadyOwnedByYouException).recoverWithNull()
                .invoke(() -> LOG.infof("Created S3 bucket %s", config.bucket()));
    }

    private static boolean isMissingBucket(Throwable failure) {
        Throwable cause = unwrap(failure);
        return cause instanceof NoSuchBucketException
                || cause instanceof S3Exception s3 && s3.statusCode() == 404;
    }

    private static Throwable unwrap(Throwable failure) {
        return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    }
}
