package dev.reprise.gateway.service;

import dev.reprise.web.ProblemException;
import java.util.Map;
import dev.reprise.gateway.config.BuildsConfig;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.concurrent.Executor;
import java.util.concurrent.RejectedExecutionException;
import java.util.function.Supplier;

/**
 * Runs ref resolutions (DNS and git ls-remote: blocking, slow when a remote is) on worker threads,
 * at most N at once per tenant and M over all, so that one tenant's slow or hostile remotes can
 * take neither the event loop, nor the worker pool, nor the other tenants' share. Past a limit the
 * request fails at once with {@link BusyException} (429).
 *
 * <p>A slot is held until the work has ended, not until the request does: a client that hangs up
 * does not free its slot while its git still runs.
 */
@ApplicationScoped
public class ResolutionSlots {

    private final int perTenant;
    private final int total;
    private final long timeoutNanos;
    private final Executor executor;
    private final Counter tenantLimited;
    private final Counter gatewayLimited;
    // guarded by this: when each running resolution started, per tenant and over all
    private final Map<String, List<Long>> running = new HashMap<>();
    private final List<Long> all = new ArrayList<>();

    @Inject
    public ResolutionSlots(BuildsConfig config, MeterRegistry metrics) {
        this(config.refResolutionsPerTenant(), config.refResolutionsTotal(), config.refResolutionTimeout(),
                Infrastructure.getDefaultWorkerPool(), metrics);
    }

    ResolutionSlots(int perTenant, int total, Duration timeout, Executor executor, MeterRegistry metrics) {
        if (perTenant < 1 || total < 1) {
            throw new IllegalArgumentException("reprise.builds.ref-resolutions-per-tenant and -total must be at least 1");
        }
        this.perTenant = perTenant;
        this.total = total;
        this.timeoutNanos = timeout.toNanos();
        this.executor = executor;
        this.tenantLimited = Counter.builder("reprise.gateway.ref.resolutions.limited").tag("limit", "tenant")
                .description("Ref resolutions refused with 429").register(metrics);
        this.gatewayLimited = Counter.builder("reprise.gateway.ref.resolutions.limited").tag("limit", "gateway")
                .description("Ref resolutions refused with 429").register(metrics);
        Gauge.builder("reprise.gateway.ref.resolutions.running", this, ResolutionSlots::runningNow)
                .description("Ref resolutions running").register(metrics);
    }

    /**
     * {@code work} on a worker thread once a slot of the tenant's is free; fails at subscription
     * (on the caller's thread, without blocking) when none is.
     */
    public <T> Uni<T> run(String tenantId, Supplier<T> work) {
        return Uni.createFrom().emitter(emitter -> {
            long started;
            try {
                started = acquire(tenantId);
            } catch (BusyException e) {
                emitter.fail(e);
                return;
            }
            Runnable task = () -> {
                T result;
                try {
                    result = work.get();
                } catch (Throwable e) {
                    release(tenantId, started);
                    emitter.fail(e);
                    return;
                }
                release(tenantId, started);
                emitter.complete(result);
            };
            try {
                executor.execute(task);
            } catch (RejectedExecutionException e) {
                release(tenantId, started);
                emitter.fail(e);
            }
        });
    }

    private synchronized long acquire(String tenantId) {
        List<Long> tenant = running.getOrDefault(tenantId, List.of());
        long now = System.nanoTime();
        if (tenant.size() >= perTenant) {
            tenantLimited.increment();
            throw new BusyException("this tenant already has " + tenant.size() + " ref resolutions (git ls-remote)"
                    + " running, the most it may run at once", retryAfter(tenant, now));
        }
        if (all.size() >= total) {
            gatewayLimited.increment();
            throw new BusyException("the gateway is running " + all.size() + " ref resolutions (git ls-remote) for its"
                    + " tenants, the most it runs at once", retryAfter(all, now));
        }
        running.computeIfAbsent(tenantId, t -> new ArrayList<>()).add(now);
        all.add(now);
        return now;
    }

    private synchronized void release(String tenantId, long started) {
        List<Long> tenant = running.get(tenantId);
        if (tenant != null) {
            tenant.remove(Long.valueOf(started));
            if (tenant.isEmpty()) {
                running.remove(tenantId);
            }
        }
        all.remove(Long.valueOf(started));
    }

    private synchronized int runningNow() {
        return all.size();
    }

    /** Seconds until the oldest of {@code starts} has hit its timeout: a slot is free by then at the latest. */
    private long retryAfter(List<Long> starts, long now) {
        long oldest = Collections.min(starts);
        long nanos = oldest + timeoutNanos - now;
        return Math.max(1, Math.min((nanos + 999_999_999L) / 1_000_000_000L, timeoutNanos / 1_000_000_000L + 1));
    }

    /** No slot is free (HTTP 429 with Retry-After). */
    public static final class BusyException extends ProblemException {
        BusyException(String problem, long retryAfterSeconds) {
            super(429, "too-many-ref-resolutions", problem + "; retry after " + retryAfterSeconds + " s, or name a commit SHA"
                    + " as ref, which needs no resolution", null, Map.of("Retry-After", Long.toString(retryAfterSeconds)));
        }
    }
}
