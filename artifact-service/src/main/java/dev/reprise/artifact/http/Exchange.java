package dev.reprise.artifact.http;

import dev.reprise.auth.Grant;
import dev.reprise.auth.TokenVerifier;
import dev.reprise.web.Problem;
import dev.reprise.web.ProblemException;
import dev.reprise.web.StoreFailures;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * What every protocol route does with a request: authenticate it and run its work (the body stays paused until
 * the work reads it), then answer, errors as problem JSON that says what to fix (or the protocol's own shape).
 * The body itself is {@link UploadSpool}'s, a blob's bytes {@link BlobSender}'s, the provenance headers
 * {@link ProvenanceHeaders}'.
 */
@ApplicationScoped
public class Exchange {

    private static final Logger LOG = Logger.getLogger(Exchange.class);
    private static final Map<String, String> BASIC_OR_BEARER = Map.of("WWW-Authenticate", "Basic realm=\"reprise\", Bearer realm=\"reprise\"");
    /**
     * An unread request body up to this size is drained before an error answer, keeping the
     * connection: a client still sending when it closes sees a broken pipe instead of the answer
     * (Gradle then counts an error, not "not cached").
     */
    private static final long DRAIN_LIMIT = 16 << 20;

    private final TokenVerifier verifier;

    public Exchange(TokenVerifier verifier) {
        this.verifier = verifier;
    }

    /**
     * Runs a request's work and answers it. The request body is paused until the work reads it,
     * so nothing is read before the caller is authenticated. Items and failures come back to the
     * request's own event loop.
     */
    public <T> void handle(RoutingContext ctx, boolean write, Function<Grant, Uni<T>> work, Consumer<T> answer) {
        handle(ctx, write, work, answer, failure -> fail(ctx, failure));
    }

    /** As {@link #handle(RoutingContext, boolean, Function, Consumer)}, with the protocol's own error answers. */
    public <T> void handle(RoutingContext ctx, boolean write, Function<Grant, Uni<T>> work, Consumer<? super T> answer, Consumer<Throwable> failed) {
        ctx.request().pause();
        Uni<Grant> grant = verifier.verify(ctx.request().getHeader(HttpHeaders.AUTHORIZATION)).invoke(g -> {
            if (write && !g.canWrite()) {
                throw ArtifactException.forbidden(g.anonymous()
                        ? "anonymous requests may only read: send a read-write token to store artifacts"
                        : "this token is read-only: use a read-write token to store artifacts");
            }
        });
        run(grant, work, answer, failed);
    }

    /**
     * Runs work for a grant that is already established (a signed URL's tenant), item and failure
     * back on the request's event loop.
     */
    public <T> void run(Uni<Grant> grant, Function<Grant, Uni<T>> work, Consumer<? super T> answer, Consumer<Throwable> failed) {
        Context context = Vertx.currentContext();
        Executor onLoop = context == null ? Runnable::run : command -> context.runOnContext(v -> command.run());
        grant.chain(g -> work.apply(g)).emitOn(onLoop).subscribe().with(item -> {
            try {
                answer.accept(item);
            } catch (RuntimeException e) {
                failed.accept(e);
            }
        }, failed);
    }

    /** Answers with a status and an empty body (or a HEAD's length). */
    public void status(RoutingContext ctx, int status) {
        ctx.response().setStatusCode(status).end();
    }

    /** Answers with JSON. */
    public void json(RoutingContext ctx, int status, Object body) {
        String text = body instanceof JsonObject json ? json.encode() : io.vertx.core.json.Json.encode(body);
        ctx.response().setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, "application/json").end(text);
    }

    /** A 404 for a cache miss, as every protocol's client expects it. */
    public void miss(RoutingContext ctx) {
        problem(ctx, 404, "not-found", "no entry for this key");
    }

    /**
     * Classifies a failure as the refusal it answers (and logs the unexpected ones): status, problem type, what to
     * fix and extra headers (WWW-Authenticate, Retry-After). Unexpected failures are a 500 without details.
     */
    public ProblemException problemOf(RoutingContext ctx, Throwable failure) {
        if (failure instanceof ProblemException e) {
            return e.status() == 401 ? new ArtifactException(401, e.type(), e.getMessage(), BASIC_OR_BEARER) : e;
        } else if (failure instanceof DecodeException e) {
            return new ArtifactException(400, "invalid-json", "the body is not valid JSON: " + e.getMessage());
        } else if (StoreFailures.unreachable(failure)) {
            // PostgreSQL or S3 away for a moment: nothing was stored or served half; the client retries.
            LOG.warnf("%s %s: a store is unreachable (%s); answered 503", ctx.request().method(), ctx.request().path(),
                    failure.toString());
            return new ArtifactException(503, "store-unavailable",
                    "the artifact store (PostgreSQL or S3) cannot be reached just now; retry shortly",
                    Map.of("Retry-After", StoreFailures.RETRY_AFTER_SECONDS));
        }
        LOG.errorf(failure, "%s %s failed", ctx.request().method(), ctx.request().path());
        return new ArtifactException(500, "internal", "the request failed on the server; it has been logged");
    }

    /** Answers a failure as problem JSON. */
    public void fail(RoutingContext ctx, Throwable failure) {
        ProblemException p = problemOf(ctx, failure);
        error(ctx, p.status(), p.headers(), Problem.MEDIA_TYPE, p.problem().json());
    }

    /** Answers a failure as one line of text, for clients that read nothing else (Nx: "respond with text/plain on 401s"). */
    public void failAsText(RoutingContext ctx, Throwable failure) {
        ProblemException p = problemOf(ctx, failure);
        error(ctx, p.status(), p.headers(), "text/plain", p.getMessage()); // exactly: Nx compares the whole header
    }

    void problem(RoutingContext ctx, int status, String type, String detail) {
        error(ctx, status, Map.of(), Problem.MEDIA_TYPE, Problem.of(status, type, detail).json());
    }

    /**
     * Sends an error answer in whatever shape the protocol's clients read, without reading an
     * unread request body it does not need: a small one is drained so the connection stays usable,
     * a large one makes the connection close after the answer.
     */
    public void error(RoutingContext ctx, int status, Map<String, String> headers, String contentType, String body) {
        HttpServerResponse response = ctx.response();
        if (response.ended() || response.closed()) {
            return;
        }
        if (response.headWritten()) {
            // A body is already on its way: cutting the connection is the only honest answer.
            ctx.request().connection().close();
            return;
        }
        headers.forEach(response::putHeader);
        HttpServerRequest request = ctx.request();
        String length = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        boolean bodyRead = request.isEnded() || ctx.body() != null && ctx.body().available();
        boolean bodyUnread = !bodyRead && (length != null || request.getHeader(HttpHeaders.TRANSFER_ENCODING) != null);
        Runnable send = () -> response.setStatusCode(status).putHeader(HttpHeaders.CONTENT_TYPE, contentType).end(body);
        if (!bodyUnread) {
            send.run();
        } else if (length != null && parseOr(length, Long.MAX_VALUE) <= DRAIN_LIMIT) {
            // Read and discard a small body so the connection stays usable.
            request.handler(ignored -> { });
            request.endHandler(v -> send.run());
            request.exceptionHandler(e -> request.connection().close());
            request.resume();
        } else {
            // Too much unread body to drain: answer, then close rather than read it.
            response.putHeader(HttpHeaders.CONNECTION, "close");
            response.endHandler(v -> request.connection().close());
            send.run();
        }
    }

    private static long parseOr(String value, long otherwise) {
        try {
            return Long.parseLong(value.strip());
        } catch (NumberFormatException e) {
            return otherwise;
        }
    }
}
