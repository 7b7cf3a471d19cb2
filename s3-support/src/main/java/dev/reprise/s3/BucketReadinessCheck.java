package dev.reprise.s3;

import io.smallrye.health.api.AsyncHealthCheck;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.Readiness;

/** Ready only while the service's bucket answers (and it is created if S3 came back empty). */
@Readiness
@ApplicationScoped
public class BucketReadinessCheck implements AsyncHealthCheck {

    static final String NAME = "S3 bucket health check";

    private final BucketGuard guard;
    private final BucketConfig config;

    public BucketReadinessCheck(BucketGuard guard, BucketConfig config) {
        this.guard = guard;
        this.config = config;
    }

    @Override
    public Uni<HealthCheckResponse> call() {
        return guard.ensureBucket()
                .ifNoItem().after(config.readinessTimeout()).fail()
                .map(ignored -> HealthCheckResponse.named(NAME).up().withData("bucket", config.bucket()).build())
                .onFailure().recoverWithItem(e -> HealthCheckResponse.named(NAME).down()
                        .withData("bucket", config.bucket())
                        .withData("error", String.valueOf(e.getMessage())).build());
    }
}
