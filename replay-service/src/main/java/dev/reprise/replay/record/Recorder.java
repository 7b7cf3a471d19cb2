package dev.reprise.replay.record;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reprise.events.BuildStatus;
import dev.reprise.events.RecordingStored;
import dev.reprise.events.RepositoryUrl;
import dev.reprise.replay.messaging.CacheEventPublisher;
import dev.reprise.replay.policy.CachePolicy;
import dev.reprise.replay.store.RecordingIndex;
import dev.reprise.replay.store.RecordingObjects;
import dev.reprise.web.StoreFailures;
import io.micrometer.core.instrument.MeterRegistry;
import io.quarkus.scheduler.Scheduled;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.eclipse.microprofile.reactive.messaging.Message;
import org.jboss.logging.Logger;

/**
 * Records every build's stream. A build's Kafka messages are acknowledged only once its recording
 * is in S3 and indexed, so a crash at any point replays them from Kafka and the recording is
 * rebuilt whole; duplicates are dropped by sequence. Successes and failures are indexed (with
 * their TTLs); timeouts and cancellations are never cached.
 */
@ApplicationScoped
public class Recorder {

    private static final Logger LOG = Logger.getLogger(Recorder.class);
    private static final String COMPLETED = "dev.reprise.build.completed.v1";

    private final Map<String, PendingRecording> pending = new ConcurrentHashMap<>();
    private final ObjectMapper json;
    private final RecordingObjects objects;
    private final RecordingIndex index;
    private final MeterRegistry metrics;
    private final CachePolicy policy;
    private final CacheEventPublisher events;
    private final Duration abandonAfter;

    public Recorder(ObjectMapper json, RecordingObjects objects, RecordingIndex index, MeterRegistry metrics,
            CachePolicy policy, CacheEventPublisher events,
            @ConfigProperty(name = "reprise.recorder.abandon-after", defaultValue = "3h") Duration abandonAfter) {
        this.json = json;
        this.objects = objects;
        this.index = index;
        this.metrics = metrics;
        this.policy = policy;
        this.events = events;
        this.abandonAfter = abandonAfter;
    }

    @Incoming("recorder-build-events")
    public CompletionStage<Void> onEvent(Message<String> message) {
        if (!policy.mode().records()) {
            return message.ack(); // REPRISE_REPLAY_MODE=off: nothing is recorded
        }
        JsonNode event;
        try {
            event = json.readTree(message.getPayload());
        } catch (IOException | RuntimeException e) {
            LOG.warnf("Skipped an unreadable build event: %s", e.getMessage());
            return message.ack();
        }
        String buildId = event.path("subject").asText();
        long seq = event.path("seq").asLong(0);
        if (buildId.isEmpty() || seq < 1) {
            return message.ack();
        }
        PendingRecording recording = pending.computeIfAbsent(buildId, id -> new PendingRecording());
        recording.add(seq, Instant.parse(event.path("time").asText(Instant.EPOCH.toString())), message.getPayload(),
                event, message);
        if (!COMPLETED.equals(event.path("type").asText())) {
            return CompletableFuture.completedFuture(null); // acknowledged with the whole recording
        }
        pending.remove(buildId);
        // Until the recording is durable nothing is acknowledged, and recording waits (retrying)
        // rather than skip ahead: S3 or PostgreSQL being down delays recordings, never loses one.
        // A failure that is not a store away (a value the store refuses) would fail the same way for
        // ever: that recording is skipped, counted, and the partition moves on.
        return StoreFailures.waitingOut(store(buildId, recording, event.path("data")), Duration.ofSeconds(1),
                        Duration.ofSeconds(30), e -> LOG.errorf("Recording of build %s not stored yet (%s); retrying", buildId,
                                e.getMessage()))
                .onFailure().recoverWithUni(e -> {
                    LOG.errorf(e, "Recording of build %s skipped: it cannot be stored", buildId);
                    metrics.counter("reprise.recordings.skipped", "reason", "unstorable").increment();
                    return Uni.createFrom().voidItem();
                })
                .chain(() -> ackAll(recording.unacknowledged()))
                .subscribeAsCompletionStage();
    }

    private Uni<Void> store(String buildId, PendingRecording pendingRecording, JsonNode completed) {
        String status = completed.path("status").asText();
        Duration ttl = switch (status) {
            case "SUCCESS" -> policy.successTtl();
            case "FAILURE" -> policy.failureTtl();
            default -> null;
        };
        if (ttl == null) {
            metrics.counter("reprise.recordings.skipped", "reason", status.toLowerCase()).increment();
            return Uni.createFrom().voidItem();
        }
        if (!pendingRecording.fromTheStart()) {
            LOG.warnf("Build %s: its first events are no longer in Kafka; not recording a partial stream", buildId);
            metrics.counter("reprise.recordings.skipped", "reason", "partial").increment();
            return Uni.createFrom().voidItem();
        }
        Recording recording = pendingRecording.complete(buildId, completed);
        byte[] gzipped = recording.toGzip(json);
        String key = RecordingObjects.keyFor(recording.header().cacheKey(), buildId);
        OffsetDateTime expires = OffsetDateTime.now(ZoneOffset.UTC).plus(ttl);
        Recording.Header h = recording.header();
        String repository = normalized(h.repository());
        return objects.put(key, gzipped)
                .chain(() -> index.upsert(h, repository, key, gzipped.length, expires))
                // A fresh build's recording replaced the key's older one: its object goes.
                .call(replaced -> replaced.map(old -> objects.delete(old).onFailure().recoverWithNull())
                        .orElseGet(() -> Uni.createFrom().nullItem()))
                .call(() -> events.publish(h.cacheKey(), h.cacheKey(), System.currentTimeMillis(),
                                new RecordingStored(h.cacheKey(), buildId, repository, h.commitSha(), h.tool(),
                                        BuildStatus.valueOf(status), key, gzipped.length, h.durationMs(), expires.toInstant()))
                        .onFailure().invoke(e -> LOG.warnf("RecordingStored of %s not published (%s)", buildId, e.getMessage()))
                        .onFailure().recoverWithNull())
                .replaceWithVoid()
                .invoke(() -> {
                    metrics.counter("reprise.recordings.stored", "status", status.toLowerCase()).increment();
                    metrics.counter("reprise.recordings.bytes").increment(gzipped.length);
                    LOG.debugf("Recorded build %s: %d messages, %d bytes", buildId, recording.frames().size(),
                            gzipped.length);
                });
    }

    /** The index keys repositories by their normalized URL (what invalidation by repository names). */
    private static String normalized(String repository) {
        try {
            return RepositoryUrl.parse(repository).normalized();
        } catch (IllegalArgumentException e) {
            return repository == null ? "" : repository;
        }
    }

    /**
     * A build that never completes (its events were not all produced, or it is not a real build)
     * would hold back the partition's committed offset forever: give it up after
     * {@code reprise.recorder.abandon-after} (well above the longest build).
     */
    @Scheduled(every = "${reprise.recorder.sweep-every:60s}", delayed = "${reprise.recorder.sweep-every:60s}")
    void abandonStale() {
        long now = System.currentTimeMillis();
        pending.entrySet().removeIf(e -> {
            if (e.getValue().idleMs(now) < abandonAfter.toMillis()) {
                return false;
            }
            LOG.warnf("Build %s: no event for %s and no BuildCompleted; not recording it", e.getKey(), abandonAfter);
            metrics.counter("reprise.recordings.skipped", "reason", "abandoned").increment();
            ackAll(e.getValue().unacknowledged()).subscribe().with(ignored -> { }, failure -> { });
            return true;
        });
    }

    private static Uni<Void> ackAll(List<Message<?>> messages) {
        CompletableFuture<?>[] acks = messages.stream().map(m -> m.ack().toCompletableFuture())
                .toArray(CompletableFuture[]::new);
        return Uni.createFrom().completionStage(CompletableFuture.allOf(acks));
    }
}
