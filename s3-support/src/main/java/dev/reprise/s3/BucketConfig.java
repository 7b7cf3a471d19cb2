package dev.reprise.s3;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;
import java.util.Optional;
import java.util.OptionalInt;

/**
 * The S3 bucket a service owns, and the bucket settings applied to it at start. A setting left
 * unset is not touched: the bucket keeps whatever it has.
 */
@ConfigMapping(prefix = "reprise.s3")
public interface BucketConfig {

    /** Name of the bucket; created at start when missing. */
    String bucket();

    /** How long a readiness probe waits for S3 before reporting DOWN. */
    @WithDefault("3s")
    Duration readinessTimeout();

    /** Versioning set on the bucket at start ({@code enabled} or {@code suspended}). Unset: left as it is. */
    Optional<Versioning> versioning();

    /** Default encryption set on the bucket at start: {@code AES256} (SSE-S3) or {@code aws:kms} (SSE-KMS). Unset: left as it is. */
    Optional<String> encryption();

    /** With {@code aws:kms}: the KMS key id or ARN. Unset: the store's default key ({@code aws/s3} on AWS). */
    Optional<String> kmsKeyId();

    /** The lifecycle rule set on the bucket at start (rule id {@code reprise}; the bucket's other rules are kept). */
    Lifecycle lifecycle();

    /** The versioning states a bucket can be put in (a versioned bucket can be suspended, never unversioned again). */
    enum Versioning {
        ENABLED, SUSPENDED
    }

    /** One lifecycle rule; with neither transition-days nor expiry-days set, the bucket's lifecycle is not touched. */
    interface Lifecycle {

        /** Objects move to {@link #storageClass()} this many days after they are written. Unset: they stay where they are. */
        OptionalInt transitionDays();

        /**
         * Where objects move after transition-days: on AWS STANDARD_IA, ONEZONE_IA, INTELLIGENT_TIERING
         * or GLACIER_IR; on MinIO the name of a remote tier. Unset: STANDARD_IA.
         */
        Optional<String> storageClass();

        /** Objects are deleted this many days after they are written. Unset: never. */
        OptionalInt expiryDays();

        /** Only objects under this key prefix (e.g. {@code blobs/}). Unset: the whole bucket. */
        Optional<String> prefix();
    }
}
