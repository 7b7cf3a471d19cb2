package dev.reprise.gateway.messaging;

import dev.reprise.events.BuildCompleted;
import dev.reprise.events.BuildEvent;
import dev.reprise.events.BuildStarted;
import dev.reprise.events.CloudEvent;
import dev.reprise.gateway.store.BuildStore;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.ZoneOffset;
import org.eclipse.microprofile.reactive.messaging.Incoming;

/**
 * Keeps build status current from the runners' events. Updates are idempotent (a redelivered
 * event changes nothing) and the offset is committed only after the row is written.
 */
@ApplicationScoped
public class BuildStatusConsumer {

    private final BuildStore builds;

    public BuildStatusConsumer(BuildStore builds) {
        this.builds = builds;
    }

    @Incoming("build-status")
    public Uni<Void> onEvent(CloudEvent<BuildEvent> event) {
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
