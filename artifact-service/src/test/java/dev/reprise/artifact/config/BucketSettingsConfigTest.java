package dev.reprise.artifact.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reprise.s3.BucketConfig;
import dev.reprise.s3.BucketSettings;
import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.s3.model.LifecycleRule;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;
import software.amazon.awssdk.services.s3.model.ServerSideEncryptionByDefault;

/** artifact-service's application.properties: the S3_* variables the README documents reach the bucket settings. */
class BucketSettingsConfigTest {

    @Test
    void withoutTheVariablesTheBucketIsLeftAsItIs() throws Exception {
        BucketConfig config = config(Map.of());

        assertThat(config.bucket()).isEqualTo("reprise-cas");
        assertThat(BucketSettings.from(config)).isEqualTo(new BucketSettings(Optional.empty(), Optional.empty(), Optional.empty()));
    }

    @Test
    void eachVariableReachesItsSetting() throws Exception {
        BucketSettings settings = BucketSettings.from(config(Map.of(
                "S3_VERSIONING", "enabled",
                "S3_ENCRYPTION", "aws:kms",
                "S3_KMS_KEY_ID", "alias/reprise",
                "S3_LIFECYCLE_TRANSITION_DAYS", "30",
                "S3_LIFECYCLE_STORAGE_CLASS", "GLACIER_IR",
                "S3_LIFECYCLE_EXPIRY_DAYS", "365",
                "S3_LIFECYCLE_PREFIX", "blobs/")));

        assertThat(settings.versioning().orElseThrow().status()).isEqualTo(BucketVersioningStatus.ENABLED);
        ServerSideEncryptionByDefault encryption = settings.encryption().orElseThrow().rules().get(0).applyServerSideEncryptionByDefault();
        assertThat(encryption.sseAlgorithm()).isEqualTo(ServerSideEncryption.AWS_KMS);
        assertThat(encryption.kmsMasterKeyID()).isEqualTo("alias/reprise");
        LifecycleRule rule = settings.lifecycleRule().orElseThrow();
        assertThat(rule.transitions().get(0).days()).isEqualTo(30);
        assertThat(rule.transitions().get(0).storageClassAsString()).isEqualTo("GLACIER_IR");
        assertThat(rule.expiration().days()).isEqualTo(365);
        assertThat(rule.filter().prefix()).isEqualTo("blobs/");
    }

    @Test
    void aWrongCombinationSaysWhichPropertyToFix() {
        assertThatThrownBy(() -> BucketSettings.from(config(Map.of(
                "S3_LIFECYCLE_TRANSITION_DAYS", "90", "S3_LIFECYCLE_EXPIRY_DAYS", "60"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("reprise.s3.lifecycle.expiry-days=60 must be after transition-days=90");
    }

    /** The service's own application.properties, with {@code env} standing in for the environment. */
    private static BucketConfig config(Map<String, String> env) throws Exception {
        return new SmallRyeConfigBuilder()
                .addDefaultInterceptors()
                .withSources(new PropertiesConfigSource(Path.of("src/main/resources/application.properties").toUri().toURL(), 100))
                .withSources(new PropertiesConfigSource(env, "env", 300))
                .withConverter(Duration.class, 200, new DurationConverter())
                .withMapping(BucketConfig.class)
                .build()
                .getConfigMapping(BucketConfig.class);
    }
}
