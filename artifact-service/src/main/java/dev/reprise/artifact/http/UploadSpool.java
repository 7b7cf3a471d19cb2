package dev.reprise.artifact.http;

import dev.reprise.artifact.service.Cas.Upload;
import dev.reprise.artifact.service.Cas;
import dev.reprise.artifact.store.LocalBlobs;
import io.smallrye.mutiny.Uni;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.function.Consumer;

/**
 * A request's body on its way to disk: streamed to a new spool file while it is hashed (bounded memory,
 * backpressure from the disk), or gathered in memory when it is declared small.
 */
@ApplicationScoped
public class UploadSpool {

    private final LocalBlobs local;
    private final Vertx vertx;

    public UploadSpool(LocalBlobs local, Vertx vertx) {
        this.local = local;
        this.vertx = vertx;
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
}
