package dev.reprise.gateway.messaging;

import dev.reprise.events.BuildCompleted;
import dev.reprise.events.BuildEvent;
import dev.reprise.events.BuildStarted;
import dev.reprise.events.CloudEvent;
import dev.reprise.gateway.store.BuildStore;
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
 * dropped BuildCompleted would leave its build RUNNING for good.
 */
@ApplicationScoped
public class BuildStatusConsumer {

    private static final Logger LOG = Logger.getLogger(BuildStatusConsumer.class);

    private final BuildStore builds;

    public BuildStatusConsumer(BuildStore builds) {
        this.builds = builds;
    }

    @Incoming("build-status")
    public Uni<Void> onEvent(CloudEvent<BuildEvent> event) {
        return apply(event)
                .onFailure().invoke(e -> LOG.warnf("Build status from %s not written yet (%s); retrying",
                        event.subject(), e.getMessage()))
                .onFailure().retry().withBackOff(Duration.ofMillis(500), Duration.ofSeconds(10)).indefinitely();
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
