package dev.reprise.events;

import java.net.ConnectException;
import java.nio.channels.ClosedChannelException;
import java.util.Set;
import java.util.concurrent.TimeoutException;

/**
 * Tells a store that could not be reached (PostgreSQL restarting, S3 down, a connection refused,
 * closed or timed out) from a request the store refused. The first is temporary: services answer
 * it with 503 and Retry-After, and background work retries it; the second is a bug or bad input.
 * Matched by class name where the class belongs to a client library a service may not carry.
 */
public final class StoreFailures {

    private static final Set<String> UNREACHABLE = Set.of(
            "software.amazon.awssdk.core.exception.SdkClientException",
            "io.vertx.sqlclient.ClosedConnectionException",
            "io.vertx.core.http.HttpClosedException",
            "io.smallrye.mutiny.TimeoutException",
            "io.netty.channel.ConnectTimeoutException",
            "io.vertx.core.http.impl.NoStackTraceTimeoutException",
            "io.vertx.core.impl.NoStackTraceTimeoutException");

    private StoreFailures() {
    }

    /** True when {@code failure}, or any cause, says a store could not be reached. */
    public static boolean unreachable(Throwable failure) {
        for (Throwable t = failure; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof ConnectException || t instanceof ClosedChannelException || t instanceof TimeoutException) {
                return true;
            }
            for (Class<?> c = t.getClass(); c != null; c = c.getSuperclass()) {
                if (UNREACHABLE.contains(c.getName())) {
                    return true;
                }
            }
        }
        return false;
    }
}
