package dev.reprise.runner.store;

import dev.reprise.events.BuildStatus;
import dev.reprise.web.StoreFailures;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Collection;
import org.jboss.logging.Logger;

/**
 * Which runner holds which build. Runs on the build worker threads, so it blocks (bounded); the
 * row and its heartbeat let a redelivered request tell a finished build, a build still running
 * elsewhere and one a crash interrupted apart. While PostgreSQL cannot be reached (a restart), a
 * statement is retried with back-off instead of failing: the request stays unacknowledged and the
 * consumer waits, where a failure would stop it.
 */
@ApplicationScoped
public class ExecutionStore {

    private static final Logger LOG = Logger.getLogger(ExecutionStore.class);
    private static final Duration TIMEOUT = Duration.ofSeconds(10);
    private static final Duration FIRST_RETRY = Duration.ofMillis(200);
    private static final Duration LAST_RETRY = Duration.ofSeconds(5);

    /** What a request finds when it arrives. */
    public sealed interface Claim {
        /** First time this build is seen: run it. */
        record Fresh() implements Claim {
        }

        /** Already finished (a duplicate delivery): nothing to do. */
        record AlreadyFinished(String status) implements Claim {
        }

        /** Not claimed: the tenant already has {@code running} builds running, its share (the request yields). */
        record OverShare(long running) implements Claim {
        }

        /** A previous attempt was running when its runner stopped. */
        record Interrupted(String runnerId, OffsetDateTime startedAt, int attempt) implements Claim {
        }
    }

    private final Pool pool;

    public ExecutionStore(Pool pool) {
        this.pool = pool;
    }

    /**
     * Claims {@code buildId} for this runner, reporting what an earlier delivery left behind. A
     * build another runner is still running (fresh heartbeat) is waited for: it either finishes
     * (AlreadyFinished) or its heartbeat goes stale, and then it is taken over (Interrupted).
     * With {@code tenantShare} above 0, a build not seen before is claimed only while its tenant
     * has fewer running (live heartbeat, all runners) than that (else OverShare). Two runners
     * claiming at the same moment may both pass: the share is a scheduling aim, not a hard quota.
     */
    public Claim claim(String buildId, String cacheKey, String tenantId, String runnerId, Duration staleAfter, Duration pollEvery,
            int tenantShare) {
        return claimNew(buildId, cacheKey, tenantId, runnerId, staleAfter, tenantShare)
                .orElseGet(() -> claimSeen(buildId, runnerId, staleAfter, pollEvery));
    }

    /** The first half of {@link #claim}, quick: Fresh or OverShare for a build not seen before; empty when it was seen. */
    public java.util.Optional<Claim> claimNew(String buildId, String cacheKey, String tenantId, String runnerId, Duration staleAfter,
            int tenantShare) {
        RowSet<Row> inserted = execute("""
                        INSERT INTO executions (build_id, cache_key, runner_id, status, tenant_id)
                        SELECT $1, $2, $3, 'RUNNING', $4
                        WHERE $5 <= 0 OR (SELECT count(*) FROM executions WHERE tenant_id = $4 AND status = 'RUNNING'
                                          AND heartbeat_at > now() - make_interval(secs => $6)) < $5
                        ON CONFLICT (build_id) DO NOTHING RETURNING build_id""",
                Tuple.from(java.util.Arrays.asList(buildId, cacheKey, runnerId, tenantId, tenantShare,
                        (double) staleAfter.toMillis() / 1000)));
        if (inserted.size() == 1) {
            return java.util.Optional.of(new Claim.Fresh());
        }
        if (tenantShare > 0 && execute("SELECT 1 FROM executions WHERE build_id = $1", Tuple.of(buildId)).size() == 0) {
            return java.util.Optional.of(new Claim.OverShare(execute("""
                            SELECT count(*) AS running FROM executions WHERE tenant_id = $1 AND status = 'RUNNING'
                            AND heartbeat_at > now() - make_interval(secs => $2)""",
                    Tuple.of(tenantId, (double) staleAfter.toMillis() / 1000)).iterator().next().getLong("running")));
        }
        return java.util.Optional.empty();
    }

    /** The second half of {@link #claim}: a build seen before, finished, lost by its runner, or waited for while it runs elsewhere. */
    public Claim claimSeen(String buildId, String runnerId, Duration staleAfter, Duration pollEvery) {
        while (true) {
            RowSet<Row> taken = execute("""
                            UPDATE executions e SET attempt = e.attempt + 1, runner_id = $2, heartbeat_at = now()
                            FROM (SELECT runner_id, started_at, attempt FROM executions WHERE build_id = $1) old
                            WHERE e.build_id = $1 AND e.status = 'RUNNING'
                              AND e.heartbeat_at < now() - make_interval(secs => $3)
                            RETURNING old.runner_id AS previous_runner, old.started_at, old.attempt""",
                    Tuple.of(buildId, runnerId, (double) staleAfter.toMillis() / 1000));
            if (taken.size() == 1) {
                Row row = taken.iterator().next();
                return new Claim.Interrupted(row.getString("previous_runner"), row.getOffsetDateTime("started_at"),
                        row.getInteger("attempt"));
            }
            String status = execute("SELECT status FROM executions WHERE build_id = $1", Tuple.of(buildId))
                    .iterator().next().getString("status");
            if (!"RUNNING".equals(status)) {
                return new Claim.AlreadyFinished(status);
            }
            sleep(pollEvery);
        }
    }

    /** Marks these builds as still running on a live runner. */
    public void heartbeat(Collection<String> buildIds) {
        if (!buildIds.isEmpty()) {
            pool.preparedQuery("UPDATE executions SET heartbeat_at = now() WHERE build_id = ANY($1) AND status = 'RUNNING'")
                    .execute(Tuple.of(buildIds.toArray(new String[0]))).await().atMost(TIMEOUT);
        }
    }

    public void finish(String buildId, BuildStatus status, Integer exitCode) {
        execute("UPDATE executions SET status = $2, exit_code = $3, finished_at = now() WHERE build_id = $1",
                Tuple.of(buildId, status.name(), exitCode));
    }

    /**
     * Runs one statement, retrying while PostgreSQL cannot be reached. Every statement here is
     * safe to repeat (an insert that conflicts does nothing, updates set values). A statement
     * PostgreSQL refused is not retried.
     */
    private RowSet<Row> execute(String sql, Tuple arguments) {
        Duration wait = FIRST_RETRY;
        while (true) {
            try {
                return pool.preparedQuery(sql).execute(arguments).await().atMost(TIMEOUT);
            } catch (RuntimeException e) {
                if (!StoreFailures.unreachable(e)) {
                    throw e;
                }
                LOG.warnf("PostgreSQL unreachable (%s); retrying in %d ms", e.getMessage(), wait.toMillis());
                sleep(wait);
                wait = wait.multipliedBy(2).compareTo(LAST_RETRY) > 0 ? LAST_RETRY : wait.multipliedBy(2);
            }
        }
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while waiting for PostgreSQL", e);
        }
    }
}
