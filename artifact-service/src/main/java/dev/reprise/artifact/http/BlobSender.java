package dev.reprise.artifact.http;

import dev.reprise.artifact.service.Cas;
import dev.reprise.artifact.store.LocalBlobs;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.AsyncFile;
import io.vertx.core.file.OpenOptions;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import org.jboss.logging.Logger;

/**
 * A blob's bytes to the client: verified bytes from memory, or a local file hashed as it is sent, never
 * completing a response whose bytes do not match the digest.
 */
@ApplicationScoped
public class BlobSender {

    private static final Logger LOG = Logger.getLogger(BlobSender.class);
    /** Read size of a blob file as it is sent (and hashed). */
    private static final int SEND_CHUNK = 64 * 1024;

    private final Exchange exchange;
    private final Cas cas;
    private final Vertx vertx;

    public BlobSender(Exchange exchange, Cas cas, Vertx vertx) {
        this.exchange = exchange;
        this.cas = cas;
        this.vertx = vertx;
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
                    exchange.problem(ctx, 503, "blob-unavailable", "the blob could not be read just now; retry");
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
                exchange.problem(ctx, 503, "blob-unavailable", "the blob's bytes could not be verified just now; retry");
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
}
