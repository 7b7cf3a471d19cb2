package dev.reprise.runner.messaging;

import dev.reprise.web.StoreFailures;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import java.time.Duration;
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

    private static final Duration FIRST_RETRY = Duration.ofSeconds(1);
    private static final Duration LAST_RETRY = Duration.ofSeconds(30);

    private final BuildRunner runner;
    private final Counter skipped;

    public BuildRequestConsumer(BuildRunner runner, MeterRegistry metrics) {
        this.runner = runner;
        this.skipped = metrics.counter("reprise.events.skipped", "consumer", "build-requests");
    }

    @Incoming("build-requests")
    @Blocking(value = "builds", ordered = false)
    public void onRequest(CloudEvent<BuildRequestEvent> event) {
        if (event == null) {
            LOG.warn("Skipped a build request that could not be read (see the deserializer's warning)");
        } else if (event.data() instanceof BuildRequested request) {
            handleUntilTheStoresAnswer(request);
        }
    }

    /**
     * A store away mid-request (Kafka for the build's events, PostgreSQL for its claim) is waited out on this
     * worker with back-off and the request handled again (a build cut short is then reported interrupted): a
     * failure must never reach the channel, whose fail-stop would leave this runner taking no builds until
     * restarted. Any other failure would fail the same way for ever: logged, counted, and the request skipped.
     */
    private void handleUntilTheStoresAnswer(BuildRequested request) {
        handleUntilTheStoresAnswer(request.buildId(), () -> runner.handle(request));
    }

    /** @return whether the request was handled (false: skipped) */
    boolean handleUntilTheStoresAnswer(String buildId, Runnable handle) {
        Duration wait = FIRST_RETRY;
        while (true) {
            try {
                handle.run();
                return true;
            } catch (RuntimeException e) {
                if (!StoreFailures.unreachable(e)) {
                    LOG.errorf(e, "Build request %s failed and is skipped", buildId);
                    skipped.increment();
                    return false;
                }
                LOG.warnf("Build request %s: a store is away (%s); handling it again in %s", buildId, e.toString(), wait);
            }
            try {
                Thread.sleep(wait.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("the runner is stopping; build request " + buildId + " is left to another", e);
            }
            wait = wait.multipliedBy(2).compareTo(LAST_RETRY) > 0 ? LAST_RETRY : wait.multipliedBy(2);
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
