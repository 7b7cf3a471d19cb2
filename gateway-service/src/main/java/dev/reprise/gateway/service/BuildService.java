package dev.reprise.gateway.service;

import dev.reprise.events.BuildCancelRequested;
import dev.reprise.events.BuildRequested;
import dev.reprise.gateway.api.BuildView;
import dev.reprise.replay.contract.RecordingView;
import dev.reprise.gateway.client.ReplayClient;
import dev.reprise.gateway.config.BuildsConfig;
import dev.reprise.gateway.messaging.BuildRequestPublisher;
import dev.reprise.gateway.service.BuildRequestParser.ValidRequest;
import dev.reprise.gateway.store.BuildStore;
import dev.reprise.gateway.store.BuildStore.Admission;
import dev.reprise.gateway.store.BuildStore.BuildRow;
import dev.reprise.gateway.store.BuildStore.NewBuild;
import dev.reprise.events.Identifiers;
import dev.reprise.events.StreamTickets;
import dev.reprise.web.ProblemException;
import io.micrometer.core.instrument.MeterRegistry;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Accepts builds: resolves the ref, keys the build, answers from cache when the key has a
 * recording (unless {@code fresh}), attaches identical requests to a running build, queues the rest.
 */
@ApplicationScoped
public class BuildService {

    private static final org.jboss.logging.Logger LOG = org.jboss.logging.Logger.getLogger(BuildService.class);

    private final BuildsConfig config;
    private final RefResolver refs;
    private final RepositoryHosts hosts;
    private final ResolutionSlots resolutions;
    private final BuildStore builds;
    private final BuildRequestPublisher publisher;
    private final ReplayClient replay;
    private final MeterRegistry metrics;
    private final StreamTickets tickets;

    public BuildService(BuildsConfig config, RefResolver refs, RepositoryHosts hosts, ResolutionSlots resolutions,
            BuildStore builds, BuildRequestPublisher publisher, ReplayClient replay, MeterRegistry metrics) {
        this.config = config;
        this.refs = refs;
        this.hosts = hosts;
        this.resolutions = resolutions;
        this.builds = builds;
        this.publisher = publisher;
        this.replay = replay;
        this.metrics = metrics;
        this.tickets = new StreamTickets(config.streamSecret());
    }

    /**
     * A request naming a commit never leaves the event loop, and the gateway never contacts its
     * repository (a host that is literally a private address is refused all the same); a branch,
     * tag or HEAD is resolved first, on a worker thread within the tenant's share of resolutions,
     * where a host name is resolved and checked too.
     */
    public Uni<BuildView> submit(String tenantId, ValidRequest request) {
        if (request.repository().normalized().startsWith("file:") && !config.allowFileRepositories()) {
            return Uni.createFrom().failure(new InvalidRequestException("repository", "file:// repositories are turned off on this"
                    + " gateway (they read its own disk); use https:// or ssh://"));
        }
        try {
            hosts.checkAddress(request.repository());
        } catch (InvalidRequestException e) {
            return Uni.createFrom().failure(e);
        }
        Uni<String> commit = Identifiers.isCommitSha(request.ref())
                ? Uni.createFrom().item(request.ref())
                : resolutions.run(tenantId, () -> refs.resolve(request.repository(), request.ref()));
        return commit.flatMap(sha -> submit(tenantId, request, sha));
    }

    private Uni<BuildView> submit(String tenantId, ValidRequest request, String commit) {
        String cacheKey = CacheKeys.key(new CacheKeys.Inputs(tenantId, request.repository().normalized(), commit, request.tool(),
                config.toolVersions().getOrDefault(request.tool(), "unknown"), config.runnerVersion(),
                config.imageDigest(), request.command(), request.env()));
        NewBuild build = new NewBuild(UUID.randomUUID().toString(), tenantId, cacheKey,
                request.repository().normalized(), request.ref(), commit, request.tool(), request.command(),
                request.env(), request.fresh(), request.timeoutSeconds());
        Uni<Optional<RecordingView>> hit = request.fresh()
                ? Uni.createFrom().item(Optional.empty())
                : replay.lookup(tenantId, cacheKey);
        return hit.flatMap(recording -> {
            if (recording.isPresent()) {
                RecordingView r = recording.get();
                metrics.counter("reprise.cache.requests", "cache", "build", "result", r.stale() ? "stale" : "hit").increment();
                Uni<String> refresh = r.stale() ? refresh(request, build) : Uni.createFrom().nullItem();
                return refresh.flatMap(refreshId -> builds.recordHit(build, r.status(), r.durationMs(), r.ageSeconds(), r.label(),
                        r.stale(), refreshId).map(row -> view(row, false)));
            }
            metrics.counter("reprise.cache.requests", "cache", "build", "result", request.fresh() ? "bypass" : "miss")
                    .increment();
            return builds.admit(build).flatMap(admission -> admission.coalesced()
                    ? Uni.createFrom().item(view(admission.build(), true))
                    : queue(request, admission, request.fresh()));
        });
    }

    /**
     * Stale-while-revalidate: a fresh live build of the same key, queued next to the stale hit
     * (or the one already running for the key); its recording replaces the old one. Never fails
     * the hit: when it cannot be queued, the next stale hit tries again.
     */
    private Uni<String> refresh(ValidRequest request, NewBuild hit) {
        NewBuild refresh = new NewBuild(UUID.randomUUID().toString(), hit.tenantId(), hit.cacheKey(), hit.repository(),
                hit.ref(), hit.commit(), hit.tool(), hit.command(), hit.env(), true, hit.timeoutSeconds());
        return builds.admit(refresh)
                .flatMap(admission -> admission.coalesced()
                        ? Uni.createFrom().item(admission.build().id())
                        : queue(request, admission, true).map(BuildView::buildId))
                .invoke(id -> metrics.counter("reprise.cache.refreshes", "cache", "build").increment())
                .onFailure().invoke(e -> LOG.warnf("Background refresh of %s not queued (%s)", hit.cacheKey(), e.getMessage()))
                .onFailure().recoverWithNull();
    }

    public Uni<Optional<BuildView>> find(String tenantId, String id) {
        return builds.find(tenantId, id).map(row -> row.map(r -> view(r, null)));
    }

    public Uni<List<BuildView>> list(String tenantId, String repository, String status, int page, int size) {
        return builds.list(tenantId, repository, status, page, size)
                .map(rows -> rows.stream().map(r -> view(r, null)).toList());
    }

    /**
     * Asks the runners to stop an active build; the build turns CANCELLED when the runner says so.
     *
     * @return the build, or empty when the tenant has no such build
     * @throws BuildFinishedException when it already finished
     */
    public Uni<Optional<BuildView>> cancel(String tenantId, String id, String reason) {
        return builds.find(tenantId, id).flatMap(found -> {
            if (found.isEmpty()) {
                return Uni.createFrom().item(Optional.<BuildView>empty());
            }
            BuildRow row = found.get();
            if (!row.active()) {
                return Uni.createFrom().failure(new BuildFinishedException(row.id(), row.status()));
            }
            return publisher.cancel(row.cacheKey(), new BuildCancelRequested(row.id(), tenantId, reason))
                    .replaceWith(Optional.of(view(row, null)));
        });
    }

    private Uni<BuildView> queue(ValidRequest request, Admission admission, boolean fresh) {
        BuildRow row = admission.build();
        BuildRequested event = new BuildRequested(row.id(), row.tenantId(), row.cacheKey(), request.repository().original(),
                row.ref(), row.commit(), row.tool(), request.command(), request.env(), fresh, Instant.now(),
                request.timeoutSeconds());
        return publisher.publish(event)
                .replaceWith(view(row, false))
                .onFailure().call(e -> builds.markFinished(row.id(), "FAILURE", null, null,
                        "could not be queued: " + e.getMessage()))
                .onFailure().transform(e -> new QueueUnavailableException(e.getMessage()));
    }

    /**
     * Where the build streams from, with a ticket that opens that one stream for its tenant; a hit with the
     * recording's age and label as they were when it was served and, when it was stale, its refresh build.
     */
    private BuildView view(BuildRow r, Boolean coalesced) {
        String subject = r.cached() ? StreamTickets.key(r.cacheKey()) : StreamTickets.build(r.id());
        String ticket = tickets.issue(r.tenantId(), subject, Instant.now().plus(config.streamTicketTtl()));
        String stream = config.streamBaseUrl() + (r.cached() ? "/ws/recordings/" + r.cacheKey() : "/ws/builds/" + r.id())
                + "?" + StreamTickets.QUERY_PARAMETER + "=" + ticket;
        return new BuildView(r.id(), r.cacheKey(), r.repository(), r.ref(), r.commit(), r.tool(), r.command(), r.status(), r.cached(),
                coalesced, stream, r.requestedAt(), r.startedAt(), r.finishedAt(), r.durationMs(), r.exitCode(),
                r.reason(), r.hitAgeSeconds(), r.hitLabel(), Boolean.TRUE.equals(r.hitStale()) ? Boolean.TRUE : null,
                r.refreshBuildId());
    }

    /** The build is no longer active (HTTP 409). */
    public static final class BuildFinishedException extends ProblemException {
        public BuildFinishedException(String id, String status) {
            super(409, "build-finished", "build " + id + " already finished (" + status + ")");
        }
    }

    /** Kafka did not take the request (HTTP 503); the build is recorded as failed. */
    public static final class QueueUnavailableException extends ProblemException {
        public QueueUnavailableException(String cause) {
            super(503, "queue-unavailable", "the build queue is unavailable, try again shortly (" + cause + ")");
        }
    }
}
