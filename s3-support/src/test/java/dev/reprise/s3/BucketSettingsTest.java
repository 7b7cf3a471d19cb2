package dev.reprise.s3;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.quarkus.runtime.configuration.DurationConverter;
import io.smallrye.config.PropertiesConfigSource;
import io.smallrye.config.SmallRyeConfig;
import io.smallrye.config.SmallRyeConfigBuilder;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.s3.model.ExpirationStatus;
import software.amazon.awssdk.services.s3.model.LifecycleExpiration;
import software.amazon.awssdk.services.s3.model.LifecycleRule;
import software.amazon.awssdk.services.s3.model.LifecycleRuleFilter;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;
import software.amazon.awssdk.services.s3.model.ServerSideEncryptionByDefault;
import software.amazon.awssdk.services.s3.model.Transition;

/** The bucket settings as configured (through the real config mapping) and the S3 request objects they become. */
class BucketSettingsTest {

    private static final BucketSettings UNSET = new BucketSettings(Optional.empty(), Optional.empty(), Optional.empty());

    @Test
    void nothingConfiguredTouchesNothing() {
        BucketSettings settings = BucketSettings.from(config(Map.of()));

        assertThat(settings).isEqualTo(UNSET);
    }

    @Test
    void emptyValuesFromUnsetEnvironmentVariablesAreUnset() {
        BucketSettings settings = BucketSettings.from(config(Map.of(
                "reprise.s3.versioning", "", "reprise.s3.encryption", "", "reprise.s3.kms-key-id", "",
                "reprise.s3.lifecycle.transition-days", "", "reprise.s3.lifecycle.storage-class", "",
                "reprise.s3.lifecycle.expiry-days", "", "reprise.s3.lifecycle.prefix", "")));

        assertThat(settings).isEqualTo(UNSET);
    }

    @Test
    void versioningEnabledOrSuspended() {
        assertThat(BucketSettings.from(config(Map.of("reprise.s3.versioning", "enabled"))).versioning())
                .hasValueSatisfying(v -> assertThat(v.status()).isEqualTo(BucketVersioningStatus.ENABLED));
        assertThat(BucketSettings.from(config(Map.of("reprise.s3.versioning", "suspended"))).versioning())
                .hasValueSatisfying(v -> assertThat(v.status()).isEqualTo(BucketVersioningStatus.SUSPENDED));
        assertThatThrownBy(() -> config(Map.of("reprise.s3.versioning", "on")))
                .hasMessageContaining("reprise.s3.versioning");
    }

    @Test
    void sseS3AndSseKmsWithAKey() {
        ServerSideEncryptionByDefault aes = BucketSettings.from(config(Map.of("reprise.s3.encryption", "AES256"))).encryption()
                .orElseThrow().rules().get(0).applyServerSideEncryptionByDefault();
        assertThat(aes.sseAlgorithm()).isEqualTo(ServerSideEncryption.AES256);
        assertThat(aes.kmsMasterKeyID()).isNull();

        ServerSideEncryptionByDefault kms = BucketSettings.from(config(Map.of(
                        "reprise.s3.encryption", "aws:kms",
                        "reprise.s3.kms-key-id", "arn:aws:kms:eu-west-1:111122223333:key/1234abcd")))
                .encryption().orElseThrow().rules().get(0).applyServerSideEncryptionByDefault();
        assertThat(kms.sseAlgorithm()).isEqualTo(ServerSideEncryption.AWS_KMS);
        assertThat(kms.kmsMasterKeyID()).isEqualTo("arn:aws:kms:eu-west-1:111122223333:key/1234abcd");

        ServerSideEncryptionByDefault defaultKey = BucketSettings.from(config(Map.of("reprise.s3.encryption", "aws:kms")))
                .encryption().orElseThrow().rules().get(0).applyServerSideEncryptionByDefault();
        assertThat(defaultKey.kmsMasterKeyID()).as("the store's default key").isNull();
    }

    @Test
    void transitionAndExpiryBecomeOneRuleOverThePrefix() {
        LifecycleRule rule = BucketSettings.from(config(Map.of(
                "reprise.s3.lifecycle.transition-days", "30",
                "reprise.s3.lifecycle.expiry-days", "365",
                "reprise.s3.lifecycle.prefix", "blobs/"))).lifecycleRule().orElseThrow();

        assertThat(rule).isEqualTo(LifecycleRule.builder()
                .id("reprise")
                .status(ExpirationStatus.ENABLED)
                .filter(LifecycleRuleFilter.builder().prefix("blobs/").build())
                .transitions(Transition.builder().days(30).storageClass("STANDARD_IA").build())
                .expiration(LifecycleExpiration.builder().days(365).build())
                .build());
        assertThat(BucketSettings.describe(rule)).isEqualTo("rule 'reprise': to STANDARD_IA after 30 days, expiry after 365 days,"
                + " objects under blobs/");
    }

    @Test
    void aTransitionAloneToTheConfiguredClassOverTheWholeBucket() {
        LifecycleRule rule = BucketSettings.from(config(Map.of(
                "reprise.s3.lifecycle.transition-days", "0",
                "reprise.s3.lifecycle.storage-class", "glacier_ir"))).lifecycleRule().orElseThrow();

        assertThat(rule.transitions()).containsExactly(Transition.builder().days(0).storageClass("GLACIER_IR").build());
        assertThat(rule.expiration()).isNull();
        assertThat(rule.filter().prefix()).as("the whole bucket").isEmpty();
    }

    @Test
    void anExpiryAloneAndAMinioTierName() {
        assertThat(BucketSettings.from(config(Map.of("reprise.s3.lifecycle.expiry-days", "90"))).lifecycleRule().orElseThrow())
                .satisfies(rule -> {
                    assertThat(rule.transitions()).isEmpty();
                    assertThat(rule.expiration().days()).isEqualTo(90);
                });
        assertThat(BucketSettings.from(config(Map.of(
                        "reprise.s3.lifecycle.transition-days", "7",
                        "reprise.s3.lifecycle.storage-class", "WARM-TIER"))).lifecycleRule().orElseThrow()
                .transitions().get(0).storageClassAsString()).isEqualTo("WARM-TIER");
    }

    @Test
    void invalidSettingsSayWhatToFix() {
        assertProblem(Map.of("reprise.s3.lifecycle.transition-days", "60", "reprise.s3.lifecycle.expiry-days", "30"),
                "expiry-days=30 must be after transition-days=60");
        assertProblem(Map.of("reprise.s3.lifecycle.transition-days", "30", "reprise.s3.lifecycle.expiry-days", "30"),
                "expiry-days=30 must be after transition-days=30");
        assertProblem(Map.of("reprise.s3.lifecycle.expiry-days", "0"), "expiry-days=0 must be 1 or more");
        assertProblem(Map.of("reprise.s3.lifecycle.transition-days", "-1", "reprise.s3.lifecycle.storage-class", "GLACIER_IR"),
                "transition-days=-1 is negative");
        assertProblem(Map.of("reprise.s3.lifecycle.transition-days", "7"), "transition-days=7 is too soon for STANDARD_IA");
        assertProblem(Map.of("reprise.s3.lifecycle.transition-days", "90", "reprise.s3.lifecycle.storage-class", "DEEP_ARCHIVE"),
                "use GLACIER_IR");
        assertProblem(Map.of("reprise.s3.lifecycle.storage-class", "GLACIER_IR"), "storage-class is set but transition-days is not");
        assertProblem(Map.of("reprise.s3.lifecycle.prefix", "blobs/"), "prefix is set but neither transition-days nor expiry-days");
        assertProblem(Map.of("reprise.s3.encryption", "SSE-C"), "reprise.s3.encryption=SSE-C is not one of AES256 (SSE-S3), aws:kms");
        assertProblem(Map.of("reprise.s3.encryption", "AES256", "reprise.s3.kms-key-id", "k"), "kms-key-id is only used with");
        assertProblem(Map.of("reprise.s3.kms-key-id", "k"), "set encryption to aws:kms");
    }

    @Test
    void everyProblemIsReportedAtOnce() {
        assertThatThrownBy(() -> BucketSettings.from(config(Map.of(
                "reprise.s3.encryption", "none",
                "reprise.s3.lifecycle.transition-days", "60",
                "reprise.s3.lifecycle.expiry-days", "30"))))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("Invalid S3 bucket settings: ")
                .hasMessageContaining("reprise.s3.encryption=none")
                .hasMessageContaining("expiry-days=30 must be after");
    }

    @Test
    void reprisesRuleReplacesItsEarlierVersionAndKeepsTheOthers() {
        LifecycleRule theirs = LifecycleRule.builder().id("abort-uploads").status(ExpirationStatus.ENABLED)
                .filter(LifecycleRuleFilter.builder().prefix("").build()).build();
        LifecycleRule earlier = LifecycleRule.builder().id("reprise").status(ExpirationStatus.ENABLED)
                .expiration(LifecycleExpiration.builder().days(10).build()).build();
        LifecycleRule ours = LifecycleRule.builder().id("reprise").status(ExpirationStatus.ENABLED)
                .expiration(LifecycleExpiration.builder().days(20).build()).build();

        assertThat(BucketSettings.withRule(List.of(theirs, earlier), ours)).containsExactly(theirs, ours);
        assertThat(BucketSettings.withRule(List.of(), ours)).containsExactly(ours);
    }

    private static void assertProblem(Map<String, String> properties, String expected) {
        assertThatThrownBy(() -> BucketSettings.from(config(properties)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(expected);
    }

    /** The mapping as Quarkus builds it (with its "3s" durations), from these properties and a bucket name. */
    static BucketConfig config(Map<String, String> properties) {
        Map<String, String> all = new HashMap<>(properties);
        all.putIfAbsent("reprise.s3.bucket", "reprise-test");
        SmallRyeConfig config = new SmallRyeConfigBuilder()
                .withSources(new PropertiesConfigSource(all, "test", 100))
                .withConverter(Duration.class, 200, new DurationConverter())
                .withMapping(BucketConfig.class)
                .build();
        return config.getConfigMapping(BucketConfig.class);
    }
}
