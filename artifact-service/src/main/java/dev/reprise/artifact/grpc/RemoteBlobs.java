package dev.reprise.artifact.grpc;

import build.bazel.remote.execution.v2.Digest;
import com.google.protobuf.ByteString;
import dev.reprise.artifact.config.ArtifactConfig;
import dev.reprise.artifact.http.ArtifactException;
import dev.reprise.artifact.service.Cas;
import dev.reprise.artifact.service.Keys;
import dev.reprise.artifact.store.ArtifactIndex.EntryWrite;
import dev.reprise.artifact.store.ArtifactIndex.Provenance;
import dev.reprise.artifact.store.LocalBlobs;
import dev.reprise.web.ProblemException;
import dev.reprise.web.StoreFailures;
import dev.reprise.auth.Grant;
import dev.reprise.auth.TokenVerifier;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonObject;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Optional;
import org.jboss.logging.Logger;

/**
 * What the REAPI services share: the caller's grant, the CAS and action cache as the HTTP door keeps them
 * (protocols {@code bazel-cas} and {@code bazel-ac}, so a blob stored over HTTP is found over gRPC and back),
 * bytes read back verified against their digest, and failures as gRPC statuses.
 */
@ApplicationScoped
public class RemoteBlobs {

    static final String CAS = "bazel-cas";
    static final String AC = "bazel-ac";
    /** Bazel's own gRPC limit is 4 MiB per message; a batch leaves room for the envelope. */
    static final long MAX_BATCH_BYTES = 4L * 1024 * 1024 - 64 * 1024;
    static final int CHUNK = 64 * 1024;
    private static final Logger LOG = Logger.getLogger(RemoteBlobs.class);

    private final TokenVerifier verifier;
    private final Cas cas;
    private final LocalBlobs local;
    private final ArtifactConfig config;

    public RemoteBlobs(TokenVerifier verifier, Cas cas, LocalBlobs local, ArtifactConfig config) {
        this.verifier = verifier;
        this.cas = cas;
        this.local = local;
        this.config = config;
    }

    long maxBlobBytes() {
        return config.maxBlobBytes();
    }

    /** The caller's grant ({@code authorization} read by the caller where the call started); writers need a read-write token. */
    Uni<Grant> grant(String authorization, boolean write) {
        return verifier.verify(authorization).invoke(g -> {
            if (write && !g.canWrite()) {
                throw new ArtifactException(403, "forbidden", g.anonymous()
                        ? "anonymous calls may only read: send 'authorization: Bearer <read-write token>' (--remote_header)"
                        : "this token is read-only: use a read-write token to upload to the cache");
            }
        });
    }

    /** A digest's hash, checked: 64 lowercase hex characters and a size that is not negative. */
    static String hash(Digest digest) {
        if (digest.getSizeBytes() < 0) {
            throw new ArtifactException(400, "bad-request", "digest size_bytes must not be negative");
        }
        return Keys.sha256(digest.getHash(), "the digest's hash (SHA-256, 64 lowercase hex characters)");
    }

    static boolean isEmpty(Digest digest) {
        return digest.getSizeBytes() == 0 && Keys.EMPTY_SHA256.equals(digest.getHash());
    }

    /** Which of these digests the tenant's CAS holds (the empty blob always), in one index query. */
    Uni<java.util.Set<Digest>> present(String tenantId, java.util.List<Digest> digests) {
        java.util.List<String> keys = digests.stream().filter(d -> !isEmpty(d)).map(RemoteBlobs::hash).toList();
        return cas.lookupAll(tenantId, CAS, keys, "").map(found -> {
            java.util.Set<Digest> present = new java.util.HashSet<>();
            for (Digest d : digests) {
                var hit = found.get(d.getHash());
                if (isEmpty(d) || (hit != null && hit.size() == d.getSizeBytes())) {
                    present.add(d);
                }
            }
            return present;
        });
    }

    /**
     * The blob's bytes, verified against its digest (a local copy that no longer matches is dropped and
     * counted, as for HTTP); empty when the tenant has no such blob or entry.
     */
    Uni<Optional<byte[]>> readAll(String tenantId, String protocol, String key, long expectedSize) {
        if (protocol.equals(CAS) && expectedSize == 0 && Keys.EMPTY_SHA256.equals(key)) {
            return Uni.createFrom().item(Optional.of(new byte[0]));
        }
        return cas.lookup(tenantId, protocol, key, "").chain(hit -> {
            if (hit.isEmpty() || (expectedSize >= 0 && hit.get().size() != expectedSize)) {
                cas.missed(tenantId, protocol);
                return Uni.createFrom().item(Optional.<byte[]>empty());
            }
            return cas.open(tenantId, protocol, hit.get()).chain(file -> file.isEmpty()
                    ? Uni.createFrom().item(Optional.<byte[]>empty())
                    : Cas.blocking(() -> Optional.of(verified(file.get()))));
        });
    }

    /** The CAS blob as chunks from {@code offset}, at most {@code limit} bytes (0: to the end), the last held until verified. */
    Multi<ByteString> stream(String tenantId, Digest digest, long offset, long limit) {
        String key = hash(digest);
        if (offset < 0 || limit < 0 || offset > digest.getSizeBytes()) {
            return Multi.createFrom().failure(new ArtifactException(400, "bad-request",
                    "read_offset must be between 0 and the blob's size, read_limit not negative"));
        }
        return cas.lookup(tenantId, CAS, key, "").onItem().transformToMulti(hit -> {
            if (isEmpty(digest)) {
                return Multi.createFrom().<ByteString>empty();
            }
            if (hit.isEmpty() || hit.get().size() != digest.getSizeBytes()) {
                cas.missed(tenantId, CAS);
                return Multi.createFrom().failure(new ArtifactException(404, "not-found", "no blob " + key + " in this tenant's cache"));
            }
            return cas.open(tenantId, CAS, hit.get()).onItem().transformToMulti(file -> {
                if (file.isEmpty()) {
                    return Multi.createFrom().failure(new ArtifactException(404, "not-found", "blob " + key + " is not readable"));
                }
                // Read and verified whole on a worker (as BatchRead does), then sent in chunks of the range asked for.
                return Cas.blocking(() -> verified(file.get())).onItem().transformToMulti(bytes -> {
                    long end = limit == 0 ? bytes.length : Math.min(bytes.length, offset + limit);
                    return Multi.createFrom().range(0, (int) ((end - offset + CHUNK - 1) / CHUNK))
                            .map(i -> ByteString.copyFrom(bytes, (int) (offset + (long) i * CHUNK),
                                    (int) Math.min(CHUNK, end - offset - (long) i * CHUNK)));
                });
            });
        });
    }

    /** A blob's bytes, checked against its size and digest; a local copy that does not match is dropped and reported. */
    private byte[] verified(Cas.BlobFile file) throws IOException {
        if (file.bytes() != null) {
            return file.bytes();
        }
        try {
            if (file.size() > Integer.MAX_VALUE - 16) {
                throw new ArtifactException(400, "too-large", "blobs over 2 GiB are read with ByteStream in ranges (read_offset/read_limit)");
            }
            LocalBlobs.Verified checked = LocalBlobs.readChecked(file.path(), file.digest(), file.size());
            if (checked.mismatch() != null) {
                cas.localCopyRejected(file.digest(), checked.mismatch(), file.temporary());
                throw new ArtifactException(503, "blob-unavailable", "the blob's bytes could not be verified just now; retry");
            }
            byte[] bytes = checked.bytes();
            return bytes;
        } finally {
            if (file.temporary()) {
                LocalBlobs.deleteQuietly(file.path());
            }
        }
    }

    /** Stores bytes under a key of the tenant's {@code protocol}; the caller has checked them. */
    Uni<Long> save(Grant grant, String protocol, String key, byte[] bytes) {
        return Cas.blocking(() -> {
            Path file = local.newSpoolFile();
            Files.write(file, bytes, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            return new Cas.Upload(file, HexFormat.of().formatHex(LocalBlobs.newSha256().digest(bytes)), bytes.length);
        }).chain(upload -> save(grant, protocol, key, upload));
    }

    /** Stores a spooled upload under a key of the tenant's {@code protocol} (the spool file is consumed). */
    Uni<Long> save(Grant grant, String protocol, String key, Cas.Upload upload) {
        EntryWrite write = new EntryWrite(grant.tenantId(), protocol, key, "", upload.digest(), upload.size(), null, null,
                cas.expiryFromNow(), new JsonObject(), Provenance.NONE);
        return cas.save(write, upload, false);
    }

    /** An upload being received: a spool file and the running digest. */
    final class Spool implements AutoCloseable {
        final Path file = local.newSpoolFile();
        private final FileChannel out = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        private final MessageDigest digest = LocalBlobs.newSha256();
        long size;
        private boolean kept;

        Spool() throws IOException {
        }

        void write(ByteString data) throws IOException {
            ByteBuffer buffer = data.asReadOnlyByteBuffer();
            digest.update(data.asReadOnlyByteBuffer());
            while (buffer.hasRemaining()) {
                out.write(buffer);
            }
            size += data.size();
        }

        Cas.Upload finish() throws IOException {
            out.close();
            kept = true;
            return new Cas.Upload(file, HexFormat.of().formatHex(digest.digest()), size);
        }

        @Override
        public void close() {
            try {
                out.close();
            } catch (IOException ignored) {
                // the file goes next
            }
            if (!kept) {
                LocalBlobs.deleteQuietly(file);
            }
        }
    }

    Spool spool() throws IOException {
        return new Spool();
    }

    /** A failure as the gRPC status a client acts on (a retry for UNAVAILABLE, a miss for NOT_FOUND). */
    static StatusRuntimeException status(Throwable failure) {
        if (failure instanceof StatusRuntimeException s) {
            return s;
        }
        if (failure instanceof ProblemException e) {
            Status code = switch (e.status()) {
                case 400, 413 -> Status.INVALID_ARGUMENT;
                case 401 -> Status.UNAUTHENTICATED;
                case 403 -> Status.PERMISSION_DENIED;
                case 404 -> Status.NOT_FOUND;
                case 409 -> Status.ALREADY_EXISTS;
                case 507 -> Status.RESOURCE_EXHAUSTED;
                case 503 -> Status.UNAVAILABLE;
                default -> Status.INTERNAL;
            };
            return code.withDescription(e.getMessage()).asRuntimeException();
        }
        if (StoreFailures.unreachable(failure)) {
            return Status.UNAVAILABLE.withDescription("the artifact store (PostgreSQL or S3) cannot be reached just now; retry shortly")
                    .asRuntimeException();
        }
        LOG.errorf(failure, "A gRPC cache call failed");
        return Status.INTERNAL.withDescription("the call failed on the server; it has been logged").asRuntimeException();
    }

    /** A per-blob answer's status (batch calls answer each blob on its own). */
    static com.google.rpc.Status rpcStatus(Throwable failure) {
        StatusRuntimeException s = status(failure);
        return com.google.rpc.Status.newBuilder().setCode(s.getStatus().getCode().value())
                .setMessage(s.getStatus().getDescription() == null ? "" : s.getStatus().getDescription()).build();
    }

    static com.google.rpc.Status ok() {
        return com.google.rpc.Status.newBuilder().setCode(0).build();
    }
}
