package dev.reprise.artifact.http;

import dev.reprise.artifact.service.Cas.Upload;
import dev.reprise.artifact.service.Cas;
import dev.reprise.artifact.store.ArtifactIndex.Provenance;
import dev.reprise.artifact.store.LocalBlobs;
import dev.reprise.auth.Grant;
import dev.reprise.auth.TokenVerifier;
import dev.reprise.events.RepositoryUrl;
import dev.reprise.web.Problem;
import dev.reprise.web.ProblemException;
import dev.reprise.web.StoreFailures;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.function.Consumer;
import java.util.function.Function;
import org.jboss.logging.Logger;

/**
 * What every protocol route does with a request: authenticate it, stream its body to a spool file
 * while hashing it (bounded memory, backpressure from the disk), send a verified local file with
 * sendfile, and answer errors as problem JSON that says what to fix.
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
    /** Read size of a blob file as it is sent (and hashed). */
    private static final int SEND_CHUNK = 64 * 1024;

    private final TokenVerifier verifier;
    private final LocalBlobs local;
    private final Cas cas;
    private final Vertx vertx;

    public Exchange(TokenVerifier verifier, LocalBlobs local, Cas cas, Vertx vertx) {
        this.verifier = verifier;
        this.local = local;
        this.cas = cas;
        this.vertx = vertx;
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

    /**
     * Streams the request body to a new spool file, hashing it on the way. More than {@code limit}
     * bytes (declared or sent) is a 413; the partial file is removed on every failure.
     */
    public Uni<Upload> receive(RoutingContext ctx, long limit, String limitHint) {
        HttpServerRequest request = ctx.request();
        String declared = request.getHeader(HttpHeaders.CONTENT_LENGTH);
        if (declared != null) {
            long length;
            try {
                length = Long.parseLong(declared.strip());
            } catch (NumberFormatException e) {
                return Uni.createFrom().failure(ArtifactException.badRequest("Content-Length '" + declared + "' is not a number"));
            }
            if (length > limit) {
                return Uni.createFrom().failure(ArtifactException.tooLarge(
                        "the body is " + length + " bytes; " + limitHint + " accepts at most " + limit));
            }
        }
        if (declared != null && Long.parseLong(declared.strip()) <= IN_MEMORY_BODY_BYTES) {
            return receiveSmall(request, Long.parseLong(declared.strip()));
        }
        Path file = local.newSpoolFile();
        return Uni.createFrom().<Upload>emitter(emitter -> vertx.fileSystem()
                .open(file.toString(), new OpenOptions().setCreateNew(true).setWrite(true))
                .onFailure(emitter::fail)
                .onSuccess(out -> new Spooling(request, out, file, limit, limitHint, emitter::complete, emitter::fail).start()))
                .onFailure().call(() -> Cas.blocking(() -> LocalBlobs.deleteQuietly(file)));
    }

    /** Bodies declared this small are received in memory and written to the spool in one go. */
    private static final long IN_MEMORY_BODY_BYTES = 64 * 1024;

    /**
     * A small body (its Content-Length at most {@link #IN_MEMORY_BODY_BYTES}, which the HTTP layer
     * holds it to): gathered in memory, then hashed and written to a spool file on one worker hop,
     * instead of an open, a write per chunk and a close on the file system's threads.
     */
    private Uni<Upload> receiveSmall(HttpServerRequest request, long length) {
        Path file = local.newSpoolFile();
        return Uni.createFrom().<Buffer>emitter(emitter -> {
                    Buffer body = Buffer.buffer((int) length);
                    request.handler(body::appendBuffer);
                    request.exceptionHandler(e -> emitter.fail(ArtifactException.badRequest("the upload was interrupted: " + e.getMessage())));
                    request.endHandler(v -> emitter.complete(body));
                    if ("100-continue".equalsIgnoreCase(request.getHeader(HttpHeaders.EXPECT))) {
                        request.response().writeContinue();
                    }
                    request.resume();
                })
                .chain(body -> Cas.blocking(() -> {
                    byte[] bytes = body.getBytes();
                    Files.write(file, bytes, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
                    return new Upload(file, HexFormat.of().formatHex(LocalBlobs.newSha256().digest(bytes)), bytes.length);
                }))
                .onFailure().call(() -> Cas.blocking(() -> LocalBlobs.deleteQuietly(file)));
    }

    /** One body on its way to disk. */
    private static final class Spooling {
        private final HttpServerRequest request;
        private final AsyncFile out;
        private final Path file;
        private final long limit;
        private final String limitHint;
        private final Consumer<Upload> done;
        private final Consumer<Throwable> failed;
        private final MessageDigest digest = LocalBlobs.newSha256();
        private long size;
        private boolean over;

        Spooling(HttpServerRequest request, AsyncFile out, Path file, long limit, String limitHint, Consumer<Upload> done,
                Consumer<Throwable> failed) {
            this.request = request;
            this.out = out;
            this.file = file;
            this.limit = limit;
            this.limitHint = limitHint;
            this.done = done;
            this.failed = failed;
        }

        void start() {
            out.exceptionHandler(e -> abort(new IllegalStateException("cannot write the upload to disk: " + e.getMessage(), e)));
            request.handler(this::chunk);
            request.exceptionHandler(e -> abort(ArtifactException.badRequest("the upload was interrupted: " + e.getMessage())));
            request.endHandler(v -> {
                if (over) {
                    return;
                }
                out.close().onComplete(closed -> {
                    if (closed.failed()) {
                        failed.accept(closed.cause());
                    } else {
                        done.accept(new Upload(file, HexFormat.of().formatHex(digest.digest()), size));
                    }
                });
            });
            if ("100-continue".equalsIgnoreCase(request.getHeader(HttpHeaders.EXPECT))) {
                request.response().writeContinue();
            }
            request.resume();
        }

        private void chunk(Buffer buffer) {
            if (over) {
                return;
            }
            size += buffer.length();
            if (size > limit) {
                abort(ArtifactException.tooLarge("the body is over " + limit + " bytes, the most " + limitHint + " accepts"));
                return;
            }
            digest.update(buffer.getByteBuf().nioBuffer());
            out.write(buffer);
            if (out.writeQueueFull()) {
                request.pause();
                out.drainHandler(v -> request.resume());
            }
        }

        private void abort(Throwable cause) {
            if (over) {
                return;
            }
            over = true;
            out.close();
            failed.accept(cause);
        }
    }

    /**
     * Sends a blob's bytes (or only its headers, for HEAD): verified bytes from memory, or a file
     * hashed as it is sent ({@link VerifiedSend}).
     */
    public void sendFile(RoutingContext ctx, Cas.BlobFile file, long size, Map<String, String> headers) {
        HttpServerResponse response = ctx.response();
        headers.forEach(response::putHeader);
        response.putHeader(HttpHeaders.CONTENT_TYPE, "application/octet-stream");
        if (ctx.request().method() == HttpMethod.HEAD || file == null) {
            response.putHeader(HttpHeaders.CONTENT_LENGTH, Long.toString(size)).end();
            return;
        }
        if (file.bytes() != null) {
            response.end(Buffer.buffer(file.bytes()));
            return;
        }
        vertx.fileSystem().open(file.path().toString(), new OpenOptions().setRead(true).setWrite(false).setCreate(false))
                .onFailure(e -> {
                    // E.g. the copy was trimmed from the cache a moment ago: the client retries.
                    LOG.warnf("Opening %s failed (%s)", file.path(), e.toString());
                    removeIfTemporary(file);
                    response.putHeader("Retry-After", "1");
                    problem(ctx, 503, "blob-unavailable", "the blob could not be read just now; retry");
                })
                .onSuccess(in -> new VerifiedSend(ctx, in, file).start());
    }

    /**
     * A blob file on its way to the client, hashed as it is read. The last chunk is held back until
     * the whole file has been read and matched its size and digest, so a file that was changed on
     * disk never completes a response: the stream is reset (the client sees a broken transfer, not a
     * blob), the copy is dropped and counted, and the next request gets the blob from S3.
     */
    private final class VerifiedSend {
        private final RoutingContext ctx;
        private final HttpServerResponse response;
        private final AsyncFile in;
        private final Cas.BlobFile file;
        private final MessageDigest digest = LocalBlobs.newSha256();
        private long read;
        private Buffer held;
        private boolean done;

        VerifiedSend(RoutingContext ctx, AsyncFile in, Cas.BlobFile file) {
            this.ctx = ctx;
            this.response = ctx.response();
            this.in = in;
            this.file = file;
        }

        void start() {
            response.putHeader(HttpHeaders.CONTENT_LENGTH, Long.toString(file.size()));
            in.setReadBufferSize(SEND_CHUNK);
            in.exceptionHandler(e -> stop(() -> {
                LOG.warnf("Reading %s failed (%s)", file.path(), e.toString());
                abort();
            }));
            in.endHandler(v -> stop(this::finish));
            // Ended, closed or reset by the client: the file is closed either way (a paused read would wait forever).
            ctx.addEndHandler(ended -> stop(() -> { }));
            in.handler(this::chunk);
        }

        private void chunk(Buffer chunk) {
            if (done) {
                return;
            }
            read += chunk.length();
            if (read > file.size()) {
                stop(() -> mismatch("size"));
                return;
            }
            digest.update(chunk.getByteBuf().nioBuffer());
            if (held != null) {
                response.write(held);
            }
            held = chunk;
            if (response.writeQueueFull()) {
                in.pause();
                response.drainHandler(v -> in.resume());
            }
        }

        private void finish() {
            if (read != file.size()) {
                mismatch("size");
            } else if (!HexFormat.of().formatHex(digest.digest()).equals(file.digest())) {
                mismatch("digest");
            } else {
                response.end(held == null ? Buffer.buffer() : held);
            }
        }

        private void mismatch(String what) {
            vertx.executeBlocking(() -> {
                cas.localCopyRejected(file.digest(), what, file.temporary());
                return null;
            }, false);
            abort();
        }

        /** Ends the transfer unfinished: a clean 503 if nothing was sent yet, else a reset stream. */
        private void abort() {
            if (!response.headWritten()) {
                response.headers().remove(HttpHeaders.CONTENT_LENGTH);
                response.putHeader("Retry-After", "1");
                problem(ctx, 503, "blob-unavailable", "the blob's bytes could not be verified just now; retry");
            } else {
                response.reset();
            }
        }

        /** Runs {@code last} once: closes the file and removes a temporary one, whatever ended the transfer. */
        private void stop(Runnable last) {
            if (done) {
                return;
            }
            done = true;
            in.close();
            try {
                last.run();
            } finally {
                removeIfTemporary(file);
            }
        }
    }

    private void removeIfTemporary(Cas.BlobFile file) {
        if (file.temporary()) {
            vertx.executeBlocking(() -> LocalBlobs.deleteQuietly(file.path()), false);
        }
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

    private void problem(RoutingContext ctx, int status, String type, String detail) {
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

    /** The optional provenance headers a client may send with a save ({@code X-Reprise-*}). */
    public static Provenance provenance(HttpServerRequest request) {
        String durationText = request.getHeader("X-Reprise-Duration-Ms");
        Long duration = null;
        if (durationText != null) {
            try {
                duration = Long.parseLong(durationText.strip());
            } catch (NumberFormatException e) {
                throw ArtifactException.badRequest("X-Reprise-Duration-Ms must be a whole number of milliseconds");
            }
        }
        String repository = request.getHeader("X-Reprise-Repository");
        String lockfileHash = header(request, "X-Reprise-Lockfile-Hash");
        if (lockfileHash != null && !lockfileHash.matches("[0-9a-f]{64}")) {
            throw ArtifactException.badRequest("X-Reprise-Lockfile-Hash must be a sha256 in lowercase hex (64 characters)");
        }
        String message = header(request, "X-Reprise-Commit-Message");
        if (message != null) {
            try {
                message = java.net.URLDecoder.decode(message, java.nio.charset.StandardCharsets.UTF_8);
            } catch (IllegalArgumentException e) {
                throw ArtifactException.badRequest("X-Reprise-Commit-Message must be percent-encoded UTF-8 (" + e.getMessage() + ")");
            }
        }
        return new Provenance(repository == null ? null : normalizedRepository(repository), header(request, "X-Reprise-Commit"),
                message, header(request, "X-Reprise-Branch"), toolchainHeader(request), header(request, "X-Reprise-Build-Id"), duration,
                jsonHeader(request, "X-Reprise-Dependency-Digests"), lockfileHash);
    }

    /** X-Reprise-Toolchain: a JSON object of tool name to version string, e.g. {"java":"17.0.15","mvn":"3.8.7"}. */
    private static JsonObject toolchainHeader(HttpServerRequest request) {
        JsonObject toolchain = jsonHeader(request, "X-Reprise-Toolchain");
        if (toolchain != null) {
            for (String tool : toolchain.fieldNames()) {
                if (!(toolchain.getValue(tool) instanceof String)) {
                    throw ArtifactException.badRequest("X-Reprise-Toolchain: the version of '" + tool + "' must be a string");
                }
            }
        }
        return toolchain;
    }

    /** A repository URL as the index keeps it (any spelling of one repository is one value). */
    public static String normalizedRepository(String url) {
        try {
            return RepositoryUrl.parse(url).normalized();
        } catch (IllegalArgumentException e) {
            throw ArtifactException.badRequest("repository: " + e.getMessage());
        }
    }

    private static String header(HttpServerRequest request, String name) {
        String value = request.getHeader(name);
        if (value == null) {
            return null;
        }
        if (value.length() > 512) {
            throw ArtifactException.badRequest(name + " is longer than 512 characters");
        }
        return value.strip();
    }

    private static JsonObject jsonHeader(HttpServerRequest request, String name) {
        String value = request.getHeader(name);
        if (value == null) {
            return null;
        }
        if (value.length() > 4096) {
            throw ArtifactException.badRequest(name + " is longer than 4096 characters");
        }
        try {
            return new JsonObject(value);
        } catch (DecodeException | ClassCastException e) {
            throw ArtifactException.badRequest(name + " must be a JSON object, e.g. {\"java\":\"17.0.15\"}");
        }
    }
}
