package dev.reprise.s3;

import io.smallrye.config.ConfigMapping;
import io.smallrye.config.WithDefault;
import java.time.Duration;

/** The S3 bucket a service owns. */
@ConfigMapping(prefix = "reprise.s3")
public interface BucketConfig {

    /** Name of the bucket; created at start when missing. */
    String bucket();

    /** How long a readiness probe waits for S3 before reporting DOWN. */
    @WithDefault("3s")
    Duration readinessTimeout();
}
