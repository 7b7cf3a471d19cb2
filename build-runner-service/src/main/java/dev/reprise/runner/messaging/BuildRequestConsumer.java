package dev.reprise.runner.messaging;

import dev.reprise.events.BuildCancelRequested;
import dev.reprise.events.BuildRequestEvent;
import dev.reprise.events.BuildRequested;
import dev.reprise.events.CloudEvent;
import dev.reprise.runner.service.BuildRunner;
import io.smallrye.reactive.messaging.annotations.Blocking;
import jakarta.enterprise.context.ApplicationScoped;
import org.eclipse.microprofile.reactive.messaging.Incoming;
import org.jboss.logging.Logger;

/**
 * Thin Kafka adapters. Requests are shared by the runners' consumer group and run on the
 * {@code builds} worker pool, whose size is this runner's concurrency limit; a request is
 * acknowledged only after its build is reported, so a runner that dies mid-build leaves it to be
 * redelivered. Cancels reach every runner (a group per instance) and the holder stops the build.
 */
@ApplicationScoped
public class BuildRequestConsumer {

    private static final Logger LOG = Logger.getLogger(BuildRequestConsumer.class);

    private final BuildRunner runner;

    public BuildRequestConsumer(BuildRunner runner) {
        this.runner = runner;
    }

    @Incoming("build-requests")
    @Blocking(value = "builds", ordered = false)
    public void onRequest(CloudEvent<BuildRequestEvent> event) {
        if (event == null) {
            LOG.warn("Skipped a build request that could not be read (see the deserializer's warning)");
        } else if (event.data() instanceof BuildRequested request) {
            runner.handle(request);
        }
    }

    @Incoming("build-cancels")
    @Blocking // stopping a build waits for its process group to exit
    public void onCancel(CloudEvent<BuildRequestEvent> event) {
        if (event != null && event.data() instanceof BuildCancelRequested cancel) {
            runner.cancel(cancel.buildId(), cancel.reason());
        }
    }
}
