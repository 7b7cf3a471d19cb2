package dev.reprise.gateway.messaging;

import dev.reprise.events.BuildCompleted;
import dev.reprise.events.BuildEvent;
import dev.reprise.events.BuildStarted;
import dev.reprise.events.CloudEvent;
import dev.reprise.gateway.store.BuildStore;
import dev.reprise.web.StoreFailures;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.ZoneOffset;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Keeps build status current from the runners' events. Updates are idempotent (a redelivered
 * event changes nothing) and the offset is committed only after the row is written. A write that
 * fails (PostgreSQL restarting) is retried with back-off rather than failing the channel: a
 * dropped BuildCompleted would leave its build RUNNING for good. Only a store away is retried: an event whose
 * values the store refuses is skipped (logged, counted in {@code reprise_events_skipped_total}), since it
 * would fail the same way for ever and hold every status behind it.
 */
@ApplicationScoped
public class BuildStatusConsumer {

    private static final Logger LOG = Logger.getLogger(BuildStatusConsumer.class);

    private final BuildStore builds;
    private final Counter skipped;

    public BuildStatusConsumer(BuildStore builds, MeterRegistry metrics) {
        this.builds = builds;
        this.skipped = metrics.counter("reprise.events.skipped", "consumer", "build-status");
    }

    @Incoming("build-status")
    public Uni<Void> onEvent(CloudEvent<BuildEvent> event) {
        // PostgreSQL away: retried until it is back (nothing is lost). Anything else is the event's own fault
        // (a value the store refuses): logged and skipped, so one poison event never holds the partition.
        return StoreFailures.waitingOut(apply(event), Duration.ofMillis(500), Duration.ofSeconds(10),
                        e -> LOG.warnf("Build status from %s not written yet (%s); retrying", event.subject(), e.getMessage()))
                .onFailure().recoverWithUni(e -> {
                    LOG.errorf("Skipped build status event %s from %s: %s", event.id(), event.subject(), e.toString());
                    skipped.increment();
                    return Uni.createFrom().voidItem();
                });
    }

    private Uni<Void> apply(CloudEvent<BuildEvent> event) {
        if (event == null) {
            return Uni.createFrom().voidItem();
        }
        if (event.data() instanceof BuildStarted started) {
            return builds.markStarted(started.buildId(), started.runnerId(), started.startedAt().atOffset(ZoneOffset.UTC));
        }
        if (event.data() instanceof BuildCompleted done) {
            return builds.markFinished(done.buildId(), done.status().name(), done.exitCode(), done.durationMs(),
                    done.reason());
        }
        return Uni.createFrom().voidItem();
    }
}
