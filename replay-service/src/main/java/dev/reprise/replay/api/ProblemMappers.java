package dev.reprise.replay.api;

import io.smallrye.mutiny.TimeoutException;
import io.vertx.sqlclient.ClosedConnectionException;
import jakarta.ws.rs.core.Response;
import java.net.ConnectException;
import org.jboss.logging.Logger;
import org.jboss.resteasy.reactive.server.ServerExceptionMapper;
import software.amazon.awssdk.core.exception.SdkClientException;

/** replay-service's REST failures that are not the caller's: a store away is a 503, never a 500. */
public class ProblemMappers {

    private static final Logger LOG = Logger.getLogger(ProblemMappers.class);

    /** PostgreSQL restarting or S3 unreachable (refused, closed, timed out): retry shortly. */
    @ServerExceptionMapper({ConnectException.class, ClosedConnectionException.class, TimeoutException.class, SdkClientException.class})
    public Response storeUnreachable(Exception e) {
        LOG.warnf("A store is unreachable (%s); answered 503", e.toString());
        return RecordingResource.Problems.unavailable("a store behind replay-service (PostgreSQL or S3) cannot be reached just now;"
                + " retry shortly");
    }
}
