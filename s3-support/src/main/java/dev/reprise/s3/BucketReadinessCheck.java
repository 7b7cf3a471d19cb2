package dev.reprise.s3;

import io.smallrye.health.api.AsyncHealthCheck;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.eclipse.microprofile.health.HealthCheckResponseBuilder;
import org.eclipse.microprofile.health.Readiness;

/**
 * Ready only while the service's bucket answers (and it is created if S3 came back empty). Its data
 * also shows what became of each configured bucket setting ("versioning": "unsupported"); those
 * never make it DOWN.
 */
@Readiness
@ApplicationScoped
public class BucketReadinessCheck implements AsyncHealthCheck {

    static final String NAME = "S3 bucket health check";

    private final BucketGuard guard;
    private final BucketConfig config;
    private final BucketSettingsApplier settings;

    public BucketReadinessCheck(BucketGuard guard, BucketConfig config, BucketSettingsApplier settings) {
        this.guard = guard;
        this.config = config;
        this.settings = settings;
    }

    @Override
    public Uni<HealthCheckResponse> call() {
        return guard.ensureBucket()
                .ifNoItem().after(config.readinessTimeout()).fail()
                .map(ignored -> withSettings(HealthCheckResponse.named(NAME).up().withData("bucket", config.bucket())).build())
                .onFailure().recoverWithItem(e -> withSettings(HealthCheckResponse.named(NAME).down()
                        .withData("bucket", config.bucket())
                        .withData("error", String.valueOf(e.getMessage()))).build());
    }

    private HealthCheckResponseBuilder withSettings(HealthCheckResponseBuilder response) {
        settings.report().outcomes().forEach((setting, outcome) -> response.withData(setting.key(), outcome.status().label()));
        return response;
    }
}
