package dev.reprise.image.service;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.reprise.events.ImageBuildFailed;
import dev.reprise.events.ImageBuildLog;
import dev.reprise.events.ImageBuildStarted;
import dev.reprise.events.ImageBuilt;
import dev.reprise.events.ImageEvent;
import dev.reprise.image.builder.DockerEngine;
import dev.reprise.image.builder.Dockerfiles;
import dev.reprise.image.config.ImageConfig;
import dev.reprise.image.deps.DependencySet;
import dev.reprise.image.messaging.ImageEventPublisher;
import dev.reprise.image.registry.ImageReference;
import dev.reprise.image.registry.RegistryClient;
import dev.reprise.image.store.ImageRow;
import dev.reprise.image.store.ImageStore;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.ShutdownEvent;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.jboss.logging.Logger;

/**
 * Builds images: generates the Dockerfile, builds it through the Docker Engine API, pushes it,
 * takes digest and size from the registry, and proves in a container of the image that every
 * package is installed (recording the installed versions). Progress goes to Kafka as it happens
 * and to the image's row, so a client polling the image sees the log grow.
 */
@ApplicationScoped
@io.quarkus.runtime.Startup // its meters exist from the start, at zero, so dashboards and alerts see series before a build
public class ImageBuilder {

    private static final Logger LOG = Logger.getLogger(ImageBuilder.class);
    private static final Duration DB = Duration.ofSeconds(10);
    private static final long LOG_FLUSH_NANOS = Duration.ofSeconds(1).toNanos();

    private final ImageConfig config;
    private final ImageStore store;
    private final DockerEngine engine;
    private final RegistryClient registry;
    private final ImageEventPublisher events;
    private final MeterRegistry metrics;
    private final ObjectMapper json;
    private final ExecutorService builders;
    private final Map<String, CompletableFuture<ImageRow>> inFlight = new ConcurrentHashMap<>();

    public ImageBuilder(ImageConfig config, ImageStore store, DockerEngine engine, RegistryClient registry, ImageEventPublisher events,
            MeterRegistry metrics, ObjectMapper json) {
        this.config = config;
        this.store = store;
        this.engine = engine;
        this.registry = registry;
        this.events = events;
        this.metrics = metrics;
        this.json = json;
        this.builders = Executors.newFixedThreadPool(Math.max(1, config.buildConcurrency()), r -> {
            Thread thread = new Thread(r, "image-builder");
            thread.setDaemon(true);
            return thread;
        });
        for (String result : List.of("success", "failure")) {
            metrics.counter("reprise.image.builds", "result", result);
            Timer.builder("reprise.image.build.duration").tag("result", result).publishPercentileHistogram().register(metrics);
        }
    }

    /** Builds the image in the background (once per instance); the future ends with its final row. */
    public CompletableFuture<ImageRow> submit(String id, DependencySet set) {
        return inFlight.computeIfAbsent(id, key -> {
            CompletableFuture<ImageRow> done = new CompletableFuture<>();
            builders.submit(() -> {
                try {
                    build(id, set);
                    done.complete(store.find(id).await().atMost(DB).orElse(null));
                } catch (Throwable e) {
                    LOG.errorf(e, "Image %s: the builder failed", id);
                    done.completeExceptionally(e);
                } finally {
                    inFlight.remove(id);
                }
            });
            return done;
        });
    }

    /** The build running on this instance for {@code id}, if any. */
    public Optional<CompletableFuture<ImageRow>> running(String id) {
        return Optional.ofNullable(inFlight.get(id));
    }

    private void build(String id, DependencySet set) {
        if (!store.claimForBuild(id).await().atMost(DB)) {
            return; // another builder has it, or it is done
        }
        long start = System.nanoTime();
        BuildLog log = new BuildLog(id, set.hash());
        ImageRow row = store.find(id).await().atMost(DB).orElseThrow();
        publish(set.hash(), id, log.seq(), new ImageBuildStarted(id, set.hash()));
        try {
            ImageReference base = ImageReference.parse(set.baseImage());
            String dockerfile = Dockerfiles.of(set, base.withDigest(set.baseDigest()));
            log.line("reprise: building " + row.reference() + " from " + base.withDigest(set.baseDigest()));
            dockerfile.lines().forEach(line -> log.line("reprise: | " + line));
            engine.build(dockerfile, row.reference(), config.buildTimeout(), log::line);
            ImageReference target = ImageReference.parse(row.reference());
            log.line("reprise: pushing " + row.reference());
            engine.push(target.name(), target.tag(), config.buildTimeout(), log::line);
            RegistryClient.Manifest manifest = registry.manifest(target)
                    .orElseThrow(() -> new IllegalStateException("the registry has no " + row.reference() + " after the push"));
            log.line("reprise: pushed " + target.name() + "@" + manifest.digest() + " (" + manifest.sizeBytes() + " bytes)");
            ObjectNode installed = verify(set, row.reference(), log);
            long ms = (System.nanoTime() - start) / 1_000_000;
            ObjectNode metadata = json.createObjectNode();
            metadata.set("installed", installed);
            metadata.put("dockerfile", dockerfile).put("buildMs", ms).put("builder", set.builderVersion());
            log.flush();
            store.completed(id, manifest.digest(), manifest.sizeBytes(), metadata.toString()).await().atMost(DB);
            publish(set.hash(), id, log.seq(), new ImageBuilt(id, set.hash(), row.reference(), manifest.digest(), manifest.sizeBytes(), ms));
            count("success", start);
            LOG.infof("Image %s built in %d ms: %s@%s", id, ms, target.name(), manifest.digest());
        } catch (Exception | LinkageError e) {
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            String reason = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            log.line("reprise: build failed: " + reason);
            log.flush();
            store.failed(id, reason).await().atMost(DB);
            publish(set.hash(), id, log.seq(), new ImageBuildFailed(id, set.hash(), reason));
            count("failure", start);
            LOG.warnf("Image %s failed: %s", id, reason);
        }
    }

    /** Runs the verify script in a container of the image: every package's installed version, or the build fails. */
    private ObjectNode verify(DependencySet set, String reference, BuildLog log) throws InterruptedException {
        ObjectNode installed = json.createObjectNode();
        if (set.dependencies().isEmpty()) {
            return installed;
        }
        DockerEngine.Ran ran = engine.run(reference, List.of("sh", "-c", Dockerfiles.verifyScript(set)), Duration.ofMinutes(2));
        for (String line : ran.output().lines().toList()) {
            log.line("reprise: installed " + line);
            String[] parts = line.strip().split(" ", 3);
            if (parts.length == 3) {
                if (parts[2].equals("MISSING")) {
                    throw new IllegalStateException(parts[0] + " package '" + parts[1] + "' is not installed in the built image");
                }
                ObjectNode byType = installed.has(parts[0]) ? (ObjectNode) installed.get(parts[0]) : installed.putObject(parts[0]);
                byType.put(parts[1], parts[2]);
            }
        }
        for (var d : set.dependencies()) {
            if (!installed.path(d.type()).has(d.name())) {
                throw new IllegalStateException("could not verify " + d.type() + " package '" + d.name() + "' (exit " + ran.exitCode()
                        + "): " + ran.output().strip());
            }
        }
        return installed;
    }

    private void count(String result, long start) {
        metrics.counter("reprise.image.builds", "result", result).increment();
        metrics.timer("reprise.image.build.duration", "result", result).record(Duration.ofNanos(System.nanoTime() - start));
    }

    private void publish(String hash, String id, long seq, ImageEvent event) {
        events.publish(hash, id, seq, event).subscribe().with(ok -> { }, e -> LOG.warnf("Image %s: event not published (%s)", id, e.getMessage()));
    }

    void stop(@Observes ShutdownEvent event) {
        builders.shutdownNow();
    }

    /** One build's log: each line an event at once, and appended to the row about once a second. */
    private final class BuildLog {
        private final String id;
        private final String hash;
        private final AtomicLong seq = new AtomicLong();
        private final StringBuilder pending = new StringBuilder();
        private long lastFlush = System.nanoTime();

        BuildLog(String id, String hash) {
            this.id = id;
            this.hash = hash;
        }

        long seq() {
            return seq.incrementAndGet();
        }

        synchronized void line(String line) {
            publish(hash, id, seq(), new ImageBuildLog(id, line));
            pending.append(line).append('\n');
            if (System.nanoTime() - lastFlush > LOG_FLUSH_NANOS) {
                flush();
            }
        }

        synchronized void flush() {
            if (pending.length() > 0) {
                String text = pending.toString();
                pending.setLength(0);
                store.appendLog(id, text).await().atMost(DB);
            }
            lastFlush = System.nanoTime();
        }
    }
}
