package dev.reprise.s3;

import dev.reprise.s3.BucketSettingsReport.Outcome;
import dev.reprise.s3.BucketSettingsReport.Setting;
import dev.reprise.s3.BucketSettingsReport.Status;
import io.quarkus.runtime.Startup;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;
import org.jboss.logging.Logger;
import software.amazon.awssdk.awscore.exception.AwsServiceException;
import software.amazon.awssdk.services.s3.S3AsyncClient;
import software.amazon.awssdk.services.s3.model.GetBucketLifecycleConfigurationResponse;
import software.amazon.awssdk.services.s3.model.LifecycleRule;

/**
 * Applies the configured versioning, default encryption and lifecycle rule to the service's bucket,
 * once, when {@link BucketGuard} first finds the bucket there. None of them is worth not serving
 * for: a store that does not implement one (s3proxy answers 501 NotImplemented) or refuses it gets
 * one warning per setting, and the service carries on. A wrong configuration, on the other hand,
 * stops the start: this bean is created at start and checks it.
 */
@Startup
@ApplicationScoped
public class BucketSettingsApplier {

    private static final Logger LOG = Logger.getLogger(BucketSettingsApplier.class);
    /** Error codes S3-compatible stores answer for an operation they do not have, besides status 501. */
    private static final Set<String> UNSUPPORTED_CODES = Set.of("NotImplemented", "NotSupported", "UnsupportedOperation");

    private final S3AsyncClient s3;
    private final String bucket;
    private final BucketSettings settings;
    private final Map<Setting, Outcome> outcomes = new ConcurrentHashMap<>();
    private final AtomicBoolean started = new AtomicBoolean();
    private final CompletableFuture<BucketSettingsReport> done = new CompletableFuture<>();

    public BucketSettingsApplier(S3AsyncClient s3, BucketConfig config) {
        this.s3 = s3;
        this.bucket = config.bucket();
        this.settings = BucketSettings.from(config);
        Outcome pending = new Outcome(Status.PENDING, "waiting for the bucket");
        settings.versioning().ifPresent(ignored -> outcomes.put(Setting.VERSIONING, pending));
        settings.encryption().ifPresent(ignored -> outcomes.put(Setting.ENCRYPTION, pending));
        settings.lifecycleRule().ifPresent(ignored -> outcomes.put(Setting.LIFECYCLE, pending));
    }

    /**
     * Applies the settings in the background the first time it is called; every call returns the
     * same stage, completed (never failed) once each configured setting has its answer.
     */
    public CompletionStage<BucketSettingsReport> applyOnce() {
        if (started.compareAndSet(false, true)) {
            apply().subscribe().with(done::complete, done::completeExceptionally);
        }
        return done.minimalCompletionStage();
    }

    /** Where each setting stands now (configured ones only). */
    public BucketSettingsReport report() {
        return new BucketSettingsReport(outcomes);
    }

    private Uni<BucketSettingsReport> apply() {
        return step(Setting.VERSIONING, settings.versioning(), BucketSettings::describe,
                        versioning -> call(() -> s3.putBucketVersioning(b -> b.bucket(bucket).versioningConfiguration(versioning))))
                .chain(() -> step(Setting.ENCRYPTION, settings.encryption(), BucketSettings::describe,
                        encryption -> call(() -> s3.putBucketEncryption(b -> b.bucket(bucket).serverSideEncryptionConfiguration(encryption)))))
                .chain(() -> step(Setting.LIFECYCLE, settings.lifecycleRule(), BucketSettings::describe, this::putLifecycleRule))
                .map(ignored -> report());
    }

    private <T> Uni<Void> step(Setting setting, Optional<T> value, Function<T, String> describe, Function<T, Uni<?>> request) {
        if (value.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        String asked = describe.apply(value.get());
        return request.apply(value.get())
                .map(ignored -> applied(setting, asked))
                .onFailure().recoverWithItem(failure -> refused(setting, asked, failure))
                .invoke(outcome -> outcomes.put(setting, outcome))
                .replaceWithVoid();
    }

    /** A PUT replaces every rule of the bucket: the rules it has are read first and kept, Reprise's own replaced. */
    private Uni<?> putLifecycleRule(LifecycleRule rule) {
        return call(() -> s3.getBucketLifecycleConfiguration(b -> b.bucket(bucket)))
                .onFailure(BucketSettingsApplier::isNoLifecycle).recoverWithNull()
                .chain(current -> call(() -> s3.putBucketLifecycleConfiguration(b -> {
                    b.bucket(bucket).lifecycleConfiguration(c -> c.rules(BucketSettings.withRule(rules(current), rule)));
                    if (current != null && current.transitionDefaultMinimumObjectSize() != null) {
                        b.transitionDefaultMinimumObjectSize(current.transitionDefaultMinimumObjectSize());
                    }
                })));
    }

    private Outcome applied(Setting setting, String asked) {
        LOG.infof("S3 bucket %s: %s set (%s)", bucket, setting.description(), asked);
        return new Outcome(Status.APPLIED, asked);
    }

    private Outcome refused(Setting setting, String asked, Throwable failure) {
        Throwable cause = unwrap(failure);
        String answer = describe(cause);
        if (isUnsupported(cause)) {
            LOG.warnf("S3 bucket %s: the store does not support %s (asked for %s, it answered %s); the service carries on without it",
                    bucket, setting.description(), asked, answer);
            return new Outcome(Status.UNSUPPORTED, answer);
        }
        LOG.warnf("S3 bucket %s: could not set %s (asked for %s: %s); the service carries on without it",
                bucket, setting.description(), asked, answer);
        return new Outcome(Status.FAILED, answer);
    }

    static boolean isUnsupported(Throwable cause) {
        return cause instanceof AwsServiceException e
                && (e.statusCode() == 501 || e.awsErrorDetails() != null && UNSUPPORTED_CODES.contains(e.awsErrorDetails().errorCode()));
    }

    private static boolean isNoLifecycle(Throwable failure) {
        return unwrap(failure) instanceof AwsServiceException e
                && e.awsErrorDetails() != null && "NoSuchLifecycleConfiguration".equals(e.awsErrorDetails().errorCode());
    }

    /** "NotImplemented (501): Versioning is not supported.", or the client-side failure. */
    private static String describe(Throwable cause) {
        if (cause instanceof AwsServiceException e && e.awsErrorDetails() != null) {
            String code = e.awsErrorDetails().errorCode();
            String message = e.awsErrorDetails().errorMessage();
            return (code == null ? "status" : code) + " (" + e.statusCode() + ")" + (message == null ? "" : ": " + message);
        }
        return String.valueOf(cause);
    }

    private static List<LifecycleRule> rules(GetBucketLifecycleConfigurationResponse current) {
        return current == null ? List.of() : current.rules();
    }

    private static <T> Uni<T> call(Supplier<CompletionStage<T>> request) {
        return Uni.createFrom().completionStage(request);
    }

    private static Throwable unwrap(Throwable failure) {
        return failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
    }
}
