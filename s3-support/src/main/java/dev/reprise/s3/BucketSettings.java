package dev.reprise.s3;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.stream.Stream;
import software.amazon.awssdk.services.s3.model.BucketVersioningStatus;
import software.amazon.awssdk.services.s3.model.ExpirationStatus;
import software.amazon.awssdk.services.s3.model.LifecycleExpiration;
import software.amazon.awssdk.services.s3.model.LifecycleRule;
import software.amazon.awssdk.services.s3.model.LifecycleRuleFilter;
import software.amazon.awssdk.services.s3.model.ServerSideEncryption;
import software.amazon.awssdk.services.s3.model.ServerSideEncryptionByDefault;
import software.amazon.awssdk.services.s3.model.ServerSideEncryptionConfiguration;
import software.amazon.awssdk.services.s3.model.ServerSideEncryptionRule;
import software.amazon.awssdk.services.s3.model.Transition;
import software.amazon.awssdk.services.s3.model.VersioningConfiguration;

/**
 * The bucket settings of {@link BucketConfig}, checked and turned into what the S3 requests carry.
 * Empty where nothing is configured: that setting is left as the bucket has it.
 */
public record BucketSettings(
        Optional<VersioningConfiguration> versioning,
        Optional<ServerSideEncryptionConfiguration> encryption,
        Optional<LifecycleRule> lifecycleRule) {

    /** The id of the one lifecycle rule Reprise owns on a bucket; rules with other ids are never changed. */
    public static final String LIFECYCLE_RULE_ID = "reprise";

    static final String DEFAULT_STORAGE_CLASS = "STANDARD_IA";
    /** AWS moves objects to these no sooner than 30 days after they are written. */
    private static final Set<String> THIRTY_DAYS_MINIMUM = Set.of("STANDARD_IA", "ONEZONE_IA");
    /** Objects in these must be restored before a GET can read them, and the service reads any object at any time. */
    private static final Set<String> NOT_READABLE = Set.of("GLACIER", "DEEP_ARCHIVE");

    /**
     * Checks {@code config} and builds the settings.
     *
     * @throws IllegalArgumentException naming every property that is wrong and what to set instead
     */
    public static BucketSettings from(BucketConfig config) {
        List<String> problems = new ArrayList<>();
        BucketSettings settings = new BucketSettings(
                config.versioning().map(BucketSettings::versioning),
                encryption(config.encryption(), config.kmsKeyId(), problems),
                lifecycleRule(config.lifecycle(), problems));
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("Invalid S3 bucket settings: " + String.join("; ", problems));
        }
        return settings;
    }

    /**
     * The rules a bucket ends up with: {@code existing} ones kept, except an earlier version of
     * Reprise's own rule, which {@code ours} replaces.
     */
    public static List<LifecycleRule> withRule(List<LifecycleRule> existing, LifecycleRule ours) {
        return Stream.concat(existing.stream().filter(rule -> !ours.id().equals(rule.id())), Stream.of(ours)).toList();
    }

    /** For logs: what the versioning setting asks for. */
    public static String describe(VersioningConfiguration versioning) {
        return versioning.statusAsString();
    }

    /** For logs: what the encryption setting asks for. */
    public static String describe(ServerSideEncryptionConfiguration encryption) {
        ServerSideEncryptionByDefault byDefault = encryption.rules().get(0).applyServerSideEncryptionByDefault();
        return byDefault.sseAlgorithmAsString() + (byDefault.kmsMasterKeyID() == null ? "" : " with key " + byDefault.kmsMasterKeyID());
    }

    /** For logs: what the lifecycle rule does. */
    public static String describe(LifecycleRule rule) {
        List<String> parts = new ArrayList<>();
        if (rule.hasTransitions()) {
            Transition transition = rule.transitions().get(0);
            parts.add("to " + transition.storageClassAsString() + " after " + transition.days() + " days");
        }
        if (rule.expiration() != null) {
            parts.add("expiry after " + rule.expiration().days() + " days");
        }
        String prefix = rule.filter().prefix();
        parts.add(prefix.isEmpty() ? "whole bucket" : "objects under " + prefix);
        return "rule '" + rule.id() + "': " + String.join(", ", parts);
    }

    private static VersioningConfiguration versioning(BucketConfig.Versioning versioning) {
        return VersioningConfiguration.builder()
                .status(versioning == BucketConfig.Versioning.ENABLED ? BucketVersioningStatus.ENABLED : BucketVersioningStatus.SUSPENDED)
                .build();
    }

    private static Optional<ServerSideEncryptionConfiguration> encryption(Optional<String> configured, Optional<String> kmsKeyId,
            List<String> problems) {
        Optional<String> keyId = kmsKeyId.map(String::strip).filter(id -> !id.isEmpty());
        if (configured.isEmpty()) {
            keyId.ifPresent(id -> problems.add("reprise.s3.kms-key-id is set but reprise.s3.encryption is not: set encryption to aws:kms"
                    + " (or unset kms-key-id)"));
            return Optional.empty();
        }
        String value = configured.get().strip();
        ServerSideEncryption algorithm;
        if (value.equalsIgnoreCase(ServerSideEncryption.AES256.toString())) {
            algorithm = ServerSideEncryption.AES256;
        } else if (value.equalsIgnoreCase(ServerSideEncryption.AWS_KMS.toString())) {
            algorithm = ServerSideEncryption.AWS_KMS;
        } else {
            problems.add("reprise.s3.encryption=" + value + " is not one of AES256 (SSE-S3), aws:kms (SSE-KMS): set one of them,"
                    + " or unset it to leave the bucket's encryption as it is");
            return Optional.empty();
        }
        if (algorithm != ServerSideEncryption.AWS_KMS && keyId.isPresent()) {
            problems.add("reprise.s3.kms-key-id is only used with reprise.s3.encryption=aws:kms, not " + algorithm
                    + ": unset kms-key-id, or set encryption to aws:kms");
            return Optional.empty();
        }
        ServerSideEncryptionByDefault.Builder byDefault = ServerSideEncryptionByDefault.builder().sseAlgorithm(algorithm);
        keyId.ifPresent(byDefault::kmsMasterKeyID);
        return Optional.of(ServerSideEncryptionConfiguration.builder()
                .rules(ServerSideEncryptionRule.builder().applyServerSideEncryptionByDefault(byDefault.build()).build())
                .build());
    }

    private static Optional<LifecycleRule> lifecycleRule(BucketConfig.Lifecycle lifecycle, List<String> problems) {
        OptionalInt transitionDays = lifecycle.transitionDays();
        OptionalInt expiryDays = lifecycle.expiryDays();
        Optional<String> storageClass = lifecycle.storageClass().map(s -> s.strip().toUpperCase(Locale.ROOT)).filter(s -> !s.isEmpty());
        Optional<String> prefix = lifecycle.prefix().filter(p -> !p.isEmpty());
        int before = problems.size();

        if (storageClass.isPresent() && transitionDays.isEmpty()) {
            problems.add("reprise.s3.lifecycle.storage-class is set but transition-days is not: set transition-days"
                    + " (or unset storage-class)");
        }
        if (prefix.isPresent() && transitionDays.isEmpty() && expiryDays.isEmpty()) {
            problems.add("reprise.s3.lifecycle.prefix is set but neither transition-days nor expiry-days is: set one of them"
                    + " (or unset prefix)");
        }
        if (transitionDays.isPresent()) {
            int days = transitionDays.getAsInt();
            String target = storageClass.orElse(DEFAULT_STORAGE_CLASS);
            if (days < 0) {
                problems.add("reprise.s3.lifecycle.transition-days=" + days + " is negative: set 0 or more days");
            }
            if (NOT_READABLE.contains(target)) {
                problems.add("reprise.s3.lifecycle.storage-class=" + target + " keeps objects the service cannot read without a"
                        + " restore: use GLACIER_IR (instant retrieval), STANDARD_IA or INTELLIGENT_TIERING");
            } else if (THIRTY_DAYS_MINIMUM.contains(target) && days < 30) {
                problems.add("reprise.s3.lifecycle.transition-days=" + days + " is too soon for " + target
                        + ": S3 moves objects there no sooner than 30 days after they are written; set 30 or more");
            }
        }
        if (expiryDays.isPresent()) {
            int days = expiryDays.getAsInt();
            if (days < 1) {
                problems.add("reprise.s3.lifecycle.expiry-days=" + days + " must be 1 or more (unset it to keep objects)");
            } else if (transitionDays.isPresent() && days <= transitionDays.getAsInt()) {
                problems.add("reprise.s3.lifecycle.expiry-days=" + days + " must be after transition-days="
                        + transitionDays.getAsInt() + ": set expiry-days above it, or unset transition-days");
            }
        }
        if (problems.size() > before || transitionDays.isEmpty() && expiryDays.isEmpty()) {
            return Optional.empty();
        }

        LifecycleRule.Builder rule = LifecycleRule.builder()
                .id(LIFECYCLE_RULE_ID)
                .status(ExpirationStatus.ENABLED)
                .filter(LifecycleRuleFilter.builder().prefix(prefix.orElse("")).build());
        transitionDays.ifPresent(days -> rule.transitions(Transition.builder()
                .days(days)
                .storageClass(storageClass.orElse(DEFAULT_STORAGE_CLASS))
                .build()));
        expiryDays.ifPresent(days -> rule.expiration(LifecycleExpiration.builder().days(days).build()));
        return Optional.of(rule.build());
    }
}
