package dev.reprise.image.service;

import dev.reprise.web.ProblemException;
import dev.reprise.events.Dependency;
import dev.reprise.image.builder.DockerEngine;
import dev.reprise.image.config.ImageConfig;
import dev.reprise.image.deps.DependencySet;
import dev.reprise.image.deps.InvalidDependencyException;
import dev.reprise.image.registry.ImageReference;
import dev.reprise.image.registry.RegistryClient;
import dev.reprise.image.store.ImageRow;
import dev.reprise.image.store.ImageStore;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.runtime.StartupEvent;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * Finds the image for a dependency set by its hash, or has it built: resolve, build (waiting or
 * in the background), delete, invalidate by base image, prune and stats.
 */
@ApplicationScoped
public class ImageCache {

    /** The builder's version: part of every hash, so a change to how images are built rebuilds them. */
    public static final String BUILDER_VERSION = "reprise-image-builder/1";
    private static final Logger LOG = Logger.getLogger(ImageCache.class);
    private static final Duration DB = Duration.ofSeconds(10);

    /** What a resolve found: {@code hit}, {@code building} (started now or already), {@code failed} or {@code disabled}. */
    public record Resolution(String result, ImageRow image, String baseImage) {
    }

    private final ImageConfig config;
    private final ImageStore store;
    private final ImageBuilder builder;
    private final RegistryClient registry;
    private final DockerEngine engine;
    private final MeterRegistry metrics;
    private final AtomicLong storedImages = new AtomicLong();
    private final AtomicLong storedBytes = new AtomicLong();

    public ImageCache(ImageConfig config, ImageStore store, ImageBuilder builder, RegistryClient registry, DockerEngine engine,
            MeterRegistry metrics) {
        this.config = config;
        this.store = store;
        this.builder = builder;
        this.registry = registry;
        this.engine = engine;
        this.metrics = metrics;
        for (String result : List.of("hit", "miss", "building", "failed", "disabled")) {
            metrics.counter("reprise.image.resolves", "result", result);
        }
        metrics.gauge("reprise.image.stored.images", storedImages);
        metrics.gauge("reprise.image.stored.bytes", storedBytes);
    }

    /** The canonical set: base image resolved to its registry digest, dependencies normalised. */
    public Uni<DependencySet> dependencySet(String baseImage, List<Dependency> dependencies) {
        return blocking(() -> {
            String base = baseImage == null || baseImage.isBlank() ? config.defaultBaseImage() : baseImage.strip();
            ImageReference reference;
            try {
                reference = ImageReference.parse(base);
            } catch (IllegalArgumentException e) {
                throw new InvalidDependencyException(e.getMessage());
            }
            String digest;
            if (reference.digest() != null) {
                digest = reference.digest();
            } else {
                try {
                    digest = registry.manifest(reference).map(RegistryClient.Manifest::digest).orElseThrow(() ->
                            new InvalidDependencyException("base image " + reference + " is not in its registry; push it first or name another"));
                } catch (IOException | RuntimeException e) {
                    String why = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
                    if (baseImage == null || baseImage.isBlank()) {
                        // The configured default: this service's own dependency is down.
                        throw new UnavailableException("the base image's registry could not be asked: " + why);
                    }
                    // A registry the request named: the caller can fix that.
                    throw new InvalidDependencyException("baseImage " + reference + ": its registry " + reference.registry()
                            + " did not answer (" + why + "); name a base image in a registry this service can reach");
                }
            }
            return DependencySet.of(reference.toString(), digest, BUILDER_VERSION, dependencies);
        });
    }

    /**
     * The image for the set: a hit, or a build started (or already running), or the failure of the
     * last build.
     *
     * @param mayBuild whether the caller may have a build started or resubmitted (a read-write
     *        token); without, whatever would need one is a {@link ForbiddenException} and nothing
     *        is built, deleted or resubmitted
     */
    public Uni<Resolution> resolve(DependencySet set, boolean retryFailed, boolean mayBuild) {
        if (!config.enabled()) {
            count("disabled");
            return Uni.createFrom().item(new Resolution("disabled", null, set.baseImage()));
        }
        return store.findByHash(set.hash()).flatMap(found -> {
            if (found.isEmpty()) {
                count("miss");
                if (!mayBuild) {
                    return refused("no image of this dependency set is built yet");
                }
                return startBuild(set).map(row -> new Resolution("building", row, set.baseImage()));
            }
            ImageRow row = found.get();
            switch (row.status()) {
                case ImageRow.COMPLETED -> {
                    return inRegistry(row).flatMap(present -> {
                        if (!present) {
                            count("miss");
                            if (!mayBuild) {
                                return refused("its image " + row.id() + " is gone from the registry and must be rebuilt");
                            }
                            // Never answer with an image nobody can pull: forget it and build it again.
                            LOG.warnf("Image %s is no longer in the registry (%s); rebuilding it", row.id(), row.pinnedReference());
                            return store.delete(row.id()).flatMap(gone -> startBuild(set))
                                    .map(rebuilt -> new Resolution("building", rebuilt, set.baseImage()));
                        }
                        count("hit");
                        return store.recordHit(row.id()).replaceWith(new Resolution("hit", row, set.baseImage()));
                    });
                }
                case ImageRow.FAILED -> {
                    if (!retryFailed) {
                        count("failed");
                        return Uni.createFrom().item(new Resolution("failed", row, set.baseImage()));
                    }
                    if (!mayBuild) {
                        count("failed");
                        return refused("retrying its failed build " + row.id() + " starts a build");
                    }
                    builder.submit(row.id(), set);
                    count("building");
                    return Uni.createFrom().item(new Resolution("building", row, set.baseImage()));
                }
                default -> {
                    count("building");
                    if (row.status().equals(ImageRow.PENDING) && mayBuild) {
                        builder.submit(row.id(), set); // a PENDING row no builder took (its instance stopped before)
                    }
                    return Uni.createFrom().item(new Resolution("building", row, set.baseImage()));
                }
            }
        });
    }

    private static Uni<Resolution> refused(String why) {
        return Uni.createFrom().failure(new ForbiddenException("a build of this dependency set needs a read-write token, and this token may"
                + " only read: " + why + ". Resolve it with a read-write token (the build runner's IMAGE_CACHE_TOKEN), then read tokens get"
                + " the image"));
    }

    private Uni<Boolean> inRegistry(ImageRow row) {
        return blocking(() -> {
            try {
                return registry.manifest(ImageReference.parse(row.pinnedReference())).isPresent();
            } catch (IOException e) {
                throw new UnavailableException("the registry could not be asked for " + row.pinnedReference() + ": " + e.getMessage());
            }
        });
    }

    /** Resolves, then waits until the image is built or failed (a synchronous build). */
    public Uni<Resolution> build(DependencySet set) {
        return resolve(set, true, true).flatMap(resolution -> {
            if (!resolution.result().equals("building")) {
                return Uni.createFrom().item(resolution);
            }
            return awaitFinal(resolution.image().id()).map(row -> new Resolution(row.completed() ? "built" : "failed", row, set.baseImage()));
        });
    }

    /** Polls the image until its build ended (whichever instance builds it), at most the build timeout. */
    public Uni<ImageRow> awaitFinal(String id) {
        return blocking(() -> {
            long deadline = System.nanoTime() + config.buildTimeout().toNanos();
            while (true) {
                Optional<java.util.concurrent.CompletableFuture<ImageRow>> local = builder.running(id);
                if (local.isPresent()) {
                    try {
                        local.get().get();
                    } catch (Exception e) {
                        // the row says what happened
                    }
                }
                ImageRow row = store.find(id).await().atMost(DB).orElseThrow(() -> new NotFoundException("image " + id + " was deleted"));
                if (row.completed() || row.status().equals(ImageRow.FAILED)) {
                    return row;
                }
                if (System.nanoTime() > deadline) {
                    throw new UnavailableException("image " + id + " is still building after " + config.buildTimeout());
                }
                Thread.sleep(500);
            }
        });
    }

    /** Removes an image: its registry manifest, the local copy, and its rows. */
    public Uni<Boolean> delete(String id) {
        return store.find(id).flatMap(found -> found.isEmpty() ? Uni.createFrom().item(false) : remove(found.get()));
    }

    /** Removes every image built on {@code baseImage}; how many. */
    public Uni<Integer> invalidateBase(String baseImage) {
        String normalised;
        try {
            normalised = ImageReference.parse(baseImage).toString();
        } catch (IllegalArgumentException e) {
            return Uni.createFrom().failure(new InvalidDependencyException(e.getMessage()));
        }
        return store.byBase(normalised).flatMap(this::removeAll);
    }

    /** Removes images unused for {@code unusedDays} (0: none by age) and the least used beyond {@code maxCount} (0: no limit). */
    public Uni<Integer> prune(int unusedDays, int maxCount) {
        return store.pruneCandidates(unusedDays, maxCount).flatMap(this::removeAll);
    }

    /** What {@link #prune} would remove now, removing nothing. */
    public Uni<List<ImageRow>> pruneCandidates(int unusedDays, int maxCount) {
        return store.pruneCandidates(unusedDays, maxCount);
    }

    public int defaultPruneDays() {
        return config.autoPruneDays();
    }

    public int defaultMaxImages() {
        return config.maxImages();
    }

    public Uni<ImageStore.Stats> stats() {
        return store.stats().invoke(s -> {
            storedImages.set(s.completed());
            storedBytes.set(s.bytes());
        });
    }

    private Uni<Integer> removeAll(List<ImageRow> rows) {
        List<Uni<Boolean>> removals = new ArrayList<>();
        rows.forEach(row -> removals.add(remove(row)));
        if (removals.isEmpty()) {
            return Uni.createFrom().item(0);
        }
        return Uni.join().all(removals).andFailFast().map(done -> (int) done.stream().filter(Boolean::booleanValue).count());
    }

    private Uni<Boolean> remove(ImageRow row) {
        if (row.status().equals(ImageRow.BUILDING) || row.status().equals(ImageRow.PENDING)) {
            return Uni.createFrom().failure(new ConflictException("image " + row.id() + " is " + row.status().toLowerCase()
                    + "; delete it when its build has ended"));
        }
        return blocking(() -> {
            if (row.registryDigest() != null) {
                registry.delete(ImageReference.parse(row.reference()), row.registryDigest());
            }
            try {
                engine.removeImage(row.reference());
            } catch (RuntimeException e) {
                LOG.warnf("Image %s: the local copy could not be removed (%s)", row.id(), e.getMessage());
            }
            return true;
        }).flatMap(ignored -> store.delete(row.id()));
    }

    /** Builds whose builder went away are failed, so the next resolve retries them. */
    @Scheduled(every = "30s", delay = 10, delayUnit = java.util.concurrent.TimeUnit.SECONDS)
    Uni<Void> failAbandonedBuilds() {
        return store.failAbandoned(Duration.ofSeconds(90)).invoke(ids -> ids.forEach(id ->
                LOG.warnf("Image %s: its build stopped reporting; marked failed", id))).replaceWithVoid()
                .onFailure().recoverWithNull();
    }

    @Scheduled(every = "30s", delay = 5, delayUnit = java.util.concurrent.TimeUnit.SECONDS)
    Uni<Void> refreshGauges() {
        return stats().replaceWithVoid().onFailure().recoverWithNull();
    }

    /** The daily prune by age and count. */
    @Scheduled(every = "24h", delay = 10, delayUnit = java.util.concurrent.TimeUnit.MINUTES)
    Uni<Void> autoPrune() {
        return prune(config.autoPruneDays(), config.maxImages()).invoke(n -> {
            if (n > 0) {
                LOG.infof("Auto-prune removed %d images", n);
            }
        }).replaceWithVoid().onFailure().recoverWithNull();
    }

    /** Common configurations are built in the background at start-up; readiness never waits for them. */
    void prebuild(@Observes StartupEvent event) {
        ImageConfig.Prebuild prebuild = config.prebuild();
        if (!prebuild.enabled() || !config.enabled()) {
            return;
        }
        List<Dependency> common = new ArrayList<>();
        prebuild.apt().orElse(List.of()).forEach(p -> common.add(split("apt", p, "=")));
        prebuild.npm().orElse(List.of()).forEach(p -> common.add(split("npm", p, "@")));
        prebuild.pip().orElse(List.of()).forEach(p -> common.add(split("pip", p, "==")));
        dependencySet(null, common).flatMap(set -> resolve(set, false, true)).subscribe().with(
                r -> LOG.infof("Prebuild of the common configuration: %s", r.result()),
                e -> LOG.warnf("Prebuild of the common configuration failed: %s", e.getMessage()));
    }

    static Dependency split(String type, String spec, String separator) {
        int at = spec.lastIndexOf(separator);
        return at > 0 ? new Dependency(type, spec.substring(0, at), spec.substring(at + separator.length()))
                : new Dependency(type, spec, null);
    }

    private Uni<ImageRow> startBuild(DependencySet set) {
        String id = UUID.randomUUID().toString();
        ImageReference target = ImageReference.parse(config.registry() + "/" + config.repository() + ":h-" + set.hash());
        return store.insertPending(id, set, target.tag(), target.toString()).flatMap(inserted -> {
            if (inserted) {
                builder.submit(id, set);
            }
            // Lost a race with another request for the same set: answer with the winner's row.
            return store.findByHash(set.hash()).map(Optional::orElseThrow);
        });
    }

    private void count(String result) {
        metrics.counter("reprise.image.resolves", "result", result).increment();
    }

    private static <T> Uni<T> blocking(java.util.concurrent.Callable<T> work) {
        return Uni.createFrom().item(() -> {
            try {
                return work.call();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                if (e instanceof InterruptedException) {
                    Thread.currentThread().interrupt();
                }
                throw new UnavailableException(e.getMessage());
            }
        }).runSubscriptionOn(Infrastructure.getDefaultWorkerPool());
    }

    /** 404: no such image. */
    public static class NotFoundException extends ProblemException {
        public NotFoundException(String message) {
            super(404, "not-found", message);
        }
    }

    /** 403: the caller's token may not have this done (it would start a build). */
    public static class ForbiddenException extends ProblemException {
        public ForbiddenException(String message) {
            super(403, "forbidden", message);
        }
    }

    /** 409: not now, for a reason the message gives. */
    public static class ConflictException extends ProblemException {
        public ConflictException(String message) {
            super(409, "conflict", message);
        }
    }

    /** 503: a store or the engine could not be reached. */
    public static class UnavailableException extends ProblemException {
        public UnavailableException(String message) {
            super(503, "unavailable", message);
        }
    }
}
