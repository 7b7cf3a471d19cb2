package dev.reprise.artifact.grpc;

import build.bazel.remote.execution.v2.Digest;
import com.google.bytestream.ByteStream;
import com.google.bytestream.QueryWriteStatusRequest;
import com.google.bytestream.QueryWriteStatusResponse;
import com.google.bytestream.ReadRequest;
import com.google.bytestream.ReadResponse;
import com.google.bytestream.WriteRequest;
import com.google.bytestream.WriteResponse;
import dev.reprise.artifact.http.ArtifactException;
import dev.reprise.artifact.service.Cas;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Blobs of any size, as REAPI clients move the large ones: {@code Read} of
 * {@code [{instance}/]blobs/{hash}/{size}}, {@code Write} to {@code [{instance}/]uploads/{uuid}/blobs/{hash}/{size}}
 * (spooled to disk, verified against the digest, then stored), and {@code QueryWriteStatus}: a blob already
 * stored is complete; an interrupted upload starts again from 0 (the spec lets a server keep nothing).
 */
@GrpcService
public class ByteStreamService implements ByteStream {

    private static final Pattern READ = Pattern.compile("^(?:.*/)?blobs/([^/]+)/([0-9]{1,19})$");
    private static final Pattern WRITE = Pattern.compile("^(?:.*/)?uploads/[^/]+/(compressed-blobs/[^/]+|blobs)/([^/]+)/([0-9]{1,19})(?:/.*)?$");

    private final RemoteBlobs blobs;

    public ByteStreamService(RemoteBlobs blobs) {
        this.blobs = blobs;
    }

    @Override
    public Multi<ReadResponse> read(ReadRequest request) {
        String authorization = GrpcCaller.authorization();
        return Multi.createFrom().deferred(() -> {
            Digest digest = readDigest(request.getResourceName());
            return blobs.grant(authorization, false).onItem().transformToMulti(grant ->
                    blobs.stream(grant.tenantId(), digest, request.getReadOffset(), request.getReadLimit()))
                    .map(chunk -> ReadResponse.newBuilder().setData(chunk).build());
        }).onFailure().transform(RemoteBlobs::status);
    }

    @Override
    public Uni<WriteResponse> write(Multi<WriteRequest> requests) {
        String authorization = GrpcCaller.authorization();
        AtomicReference<RemoteBlobs.Spool> spool = new AtomicReference<>();
        AtomicReference<Digest> expected = new AtomicReference<>();
        return blobs.grant(authorization, true).chain(grant -> requests
                        .onItem().transformToUniAndConcatenate(r -> Cas.blocking(() -> {
                            if (spool.get() == null) {
                                expected.set(writeDigest(r.getResourceName()));
                                if (expected.get().getSizeBytes() > blobs.maxBlobBytes()) {
                                    throw new ArtifactException(413, "too-large", "the blob is " + expected.get().getSizeBytes()
                                            + " bytes; this cache accepts at most " + blobs.maxBlobBytes());
                                }
                                spool.set(blobs.spool());
                            }
                            RemoteBlobs.Spool s = spool.get();
                            if (r.getWriteOffset() != s.size) {
                                throw new ArtifactException(400, "bad-request", "write_offset " + r.getWriteOffset() + " but "
                                        + s.size + " bytes were received: send the blob in order from offset 0");
                            }
                            s.write(r.getData());
                            if (s.size > expected.get().getSizeBytes()) {
                                throw new ArtifactException(400, "bad-request", "more bytes than the resource name's size "
                                        + expected.get().getSizeBytes());
                            }
                            return r.getFinishWrite();
                        }))
                        .collect().last()
                        .chain(finished -> {
                            RemoteBlobs.Spool s = spool.get();
                            if (s == null) {
                                throw new ArtifactException(400, "bad-request", "an empty Write: send at least one WriteRequest");
                            }
                            if (!Boolean.TRUE.equals(finished)) {
                                throw new ArtifactException(400, "bad-request", "the stream ended without finish_write");
                            }
                            Digest d = expected.get();
                            return Cas.blocking(s::finish).chain(upload -> {
                                if (upload.size() != d.getSizeBytes() || !upload.digest().equals(d.getHash())) {
                                    dev.reprise.artifact.store.LocalBlobs.deleteQuietly(upload.file());
                                    throw new ArtifactException(400, "bad-request", "digest mismatch: the data's sha256 is "
                                            + upload.digest() + " (" + upload.size() + " bytes) but the resource name says "
                                            + d.getHash() + " (" + d.getSizeBytes() + " bytes); nothing was stored");
                                }
                                return RemoteBlobs.isEmpty(d) ? Cas.blocking(() -> {
                                    dev.reprise.artifact.store.LocalBlobs.deleteQuietly(upload.file());
                                    return 0L;
                                }) : blobs.save(grant, RemoteBlobs.CAS, d.getHash(), upload);
                            }).replaceWith(WriteResponse.newBuilder().setCommittedSize(d.getSizeBytes()).build());
                        }))
                .onTermination().invoke(() -> {
                    RemoteBlobs.Spool s = spool.get();
                    if (s != null) {
                        s.close();
                    }
                })
                .onFailure().transform(RemoteBlobs::status);
    }

    @Override
    public Uni<QueryWriteStatusResponse> queryWriteStatus(QueryWriteStatusRequest request) {
        String authorization = GrpcCaller.authorization();
        return Uni.createFrom().deferred(() -> {
            Digest digest = writeDigest(request.getResourceName());
            return blobs.grant(authorization, true).chain(grant -> blobs.present(grant.tenantId(), java.util.List.of(digest)))
                    .map(present -> present.contains(digest))
                    .map(stored -> QueryWriteStatusResponse.newBuilder().setComplete(stored)
                            .setCommittedSize(stored ? digest.getSizeBytes() : 0).build());
        }).onFailure().transform(RemoteBlobs::status);
    }

    private static Digest readDigest(String resource) {
        Matcher m = READ.matcher(resource);
        if (!m.matches()) {
            throw new ArtifactException(400, "bad-request", "resource_name must be [{instance}/]blobs/{sha256}/{size}");
        }
        return digest(m.group(1), m.group(2));
    }

    private static Digest writeDigest(String resource) {
        Matcher m = WRITE.matcher(resource);
        if (!m.matches()) {
            throw new ArtifactException(400, "bad-request", "resource_name must be [{instance}/]uploads/{uuid}/blobs/{sha256}/{size}");
        }
        if (!m.group(1).equals("blobs")) {
            throw new ArtifactException(400, "bad-request", "compressed uploads are not supported (none are advertised): send blobs/");
        }
        return digest(m.group(2), m.group(3));
    }

    private static Digest digest(String hash, String size) {
        Digest d = Digest.newBuilder().setHash(hash).setSizeBytes(Long.parseLong(size)).build();
        RemoteBlobs.hash(d);
        return d;
    }
}
