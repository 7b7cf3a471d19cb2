package dev.reprise.web;

import io.smallrye.mutiny.Uni;
import io.vertx.sqlclient.DatabaseException;
import java.net.ConnectException;
import java.sql.SQLException;
import java.time.Duration;
import java.nio.channels.ClosedChannelException;
import java.util.Set;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;

/**
 * Tells a store that could not be reached (PostgreSQL restarting, S3 down, a connection refused,
 * closed or timed out) from a request the store refused. The first is temporary: services answer
 * it with 503 and Retry-After, and background work retries it; the second is a bug or bad input.
 * Matched by class name where the class belongs to a client library a service may not carry.
 */
public final class StoreFailures {

    /** The AWS SDK's "the service answered with an error" (the SDK is not on every service's class path). */
    private static final String S3_ANSWER = "software.amazon.awssdk.core.exception.SdkServiceException";

    private static final Set<String> UNREACHABLE = Set.of(
            "software.amazon.awssdk.core.exception.SdkClientException",
            "io.vertx.sqlclient.ClosedConnectionException",
            "io.vertx.core.http.HttpClosedException",
            "io.smallrye.mutiny.TimeoutException",
            "io.netty.channel.ConnectTimeoutException",
            "io.vertx.core.http.impl.NoStackTraceTimeoutException",
            "io.vertx.core.impl.NoStackTraceTimeoutException",
            // Kafka's own "try again": a broker away, a leader moving, a request timed out.
            "org.apache.kafka.common.errors.RetriableException");

    /** What a 503 for an unreachable store tells the client to wait, in seconds. */
    public static final String RETRY_AFTER_SECONDS = "5";

    private StoreFailures() {
    }

    /** An S3 answer of 5xx or 429 (busy, restarting) passes; 4xx is the request's fault. */
    private static boolean serverSide(Throwable s3Answer) {
        try {
            int status = (int) s3Answer.getClass().getMethod("statusCode").invoke(s3Answer);
            return status >= 500 || status == 429;
        } catch (ReflectiveOperationException | ClassCastException e) {
            return false;
        }
    }

    /**
     * PostgreSQL's SQLSTATEs that pass: connection exceptions (08), insufficient resources (53: too many
     * connections, disk full), shutting down or starting up (57P01–57P03), serialization failure and deadlock.
     */
    static boolean temporary(String sqlState) {
        return sqlState != null && (sqlState.startsWith("08") || sqlState.startsWith("53") || sqlState.startsWith("57P0")
                || sqlState.equals("40001") || sqlState.equals("40P01"));
    }

    /**
     * {@code work}, subscribed again with back-off (from {@code first} up to {@code most}) for as long as it fails
     * because a store is away, and for no other failure: background work (a consumer, a recorder) waits a store out
     * this way, and a failure that would repeat for ever (a value the store refuses) comes out at once for the
     * caller to skip, so one poison event never holds its partition.
     *
     * @param waiting told of each failure that is waited out
     */
    public static <T> Uni<T> waitingOut(Uni<T> work, Duration first, Duration most, Consumer<Throwable> waiting) {
        return work.onFailure(StoreFailures::unreachable).invoke(waiting)
                .onFailure(StoreFailures::unreachable).retry().withBackOff(first, most).indefinitely();
    }

    /** True when {@code failure}, or any cause, says a store could not be reached. */
    public static boolean unreachable(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof ConnectException || t instanceof ClosedChannelException || t instanceof TimeoutException) {
                return true;
            }
            if (t instanceof DatabaseException d && temporary(d.getSqlState())
                    || t instanceof SQLException s && temporary(s.getSQLState())) {
                return true;
            }
            for (Class<?> c = t.getClass(); c != null; c = c.getSuperclass()) {
                if (UNREACHABLE.contains(c.getName()) || c.getName().equals(S3_ANSWER) && serverSide(t)) {
                    return true;
                }
            }
        }
        return false;
    }
}
