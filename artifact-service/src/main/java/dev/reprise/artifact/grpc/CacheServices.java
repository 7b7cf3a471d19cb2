package dev.reprise.artifact.grpc;

import build.bazel.remote.execution.v2.ActionCache;
import build.bazel.remote.execution.v2.ActionCacheUpdateCapabilities;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchReadBlobsResponse;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsResponse;
import build.bazel.remote.execution.v2.CacheCapabilities;
import build.bazel.remote.execution.v2.Capabilities;
import build.bazel.remote.execution.v2.ContentAddressableStorage;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.DigestFunction;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.ExecutionCapabilities;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.FindMissingBlobsResponse;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.bazel.remote.execution.v2.GetTreeRequest;
import build.bazel.remote.execution.v2.GetTreeResponse;
import build.bazel.remote.execution.v2.OutputDirectory;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.ServerCapabilities;
import build.bazel.remote.execution.v2.SymlinkAbsolutePathStrategy;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import build.bazel.semver.SemVer;
import com.google.protobuf.ByteString;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.reprise.artifact.http.ArtifactException;
import dev.reprise.auth.Grant;
import io.quarkus.grpc.GrpcService;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Function;

/**
 * Bazel's gRPC remote cache (REAPI v2, the cache part), over the same CAS, index and tenancy as the HTTP
 * door: {@code --remote_cache=grpc://HOST:8093 --remote_header=Authorization=Bearer $TOKEN}. SHA-256 only;
 * every upload's digest is verified; an action result whose outputs are not all in the CAS is a miss.
 */
public final class CacheServices {

    private CacheServices() {
    }

    private static <T> Uni<T> call(boolean write, RemoteBlobs blobs, Function<Grant, Uni<T>> work) {
        String authorization = GrpcCaller.authorization();
        return Uni.createFrom().<T>deferred(() -> blobs.grant(authorization, write).chain(grant -> work.apply(grant)))
                .onFailure().transform(RemoteBlobs::status);
    }

    /** Each blob of a batch on its own (8 at a time), answered in the request's order. */
    private static <T> Uni<List<T>> inOrder(List<Uni<T>> each) {
        return each.isEmpty() ? Uni.createFrom().item(List.of()) : Uni.join().all(each).usingConcurrencyOf(8).andFailFast();
    }

    private static void sha256Only(DigestFunction.Value function) {
        if (function != DigestFunction.Value.SHA256 && function != DigestFunction.Value.UNKNOWN) {
            throw new ArtifactException(400, "bad-request", "this cache speaks SHA-256 only (digest_function " + function + ")");
        }
    }

    @GrpcService
    public static class CapabilitiesService implements Capabilities {
        private final RemoteBlobs blobs;

        public CapabilitiesService(RemoteBlobs blobs) {
            this.blobs = blobs;
        }

        @Override
        public Uni<ServerCapabilities> getCapabilities(GetCapabilitiesRequest request) {
            return call(false, blobs, grant -> Uni.createFrom().item(ServerCapabilities.newBuilder()
                    .setCacheCapabilities(CacheCapabilities.newBuilder()
                            .addDigestFunctions(DigestFunction.Value.SHA256)
                            .setActionCacheUpdateCapabilities(ActionCacheUpdateCapabilities.newBuilder().setUpdateEnabled(grant.canWrite()))
                            .setMaxBatchTotalSizeBytes(RemoteBlobs.MAX_BATCH_BYTES)
                            .setMaxCasBlobSizeBytes(blobs.maxBlobBytes())
                            .setSymlinkAbsolutePathStrategy(SymlinkAbsolutePathStrategy.Value.DISALLOWED))
                    .setExecutionCapabilities(ExecutionCapabilities.newBuilder().setExecEnabled(false)
                            .setDigestFunction(DigestFunction.Value.SHA256))
                    .setLowApiVersion(SemVer.newBuilder().setMajor(2))
                    .setHighApiVersion(SemVer.newBuilder().setMajor(2).setMinor(3))
                    .build()));
        }
    }

    @GrpcService
    public static class ActionCacheService implements ActionCache {
        private final RemoteBlobs blobs;

        public ActionCacheService(RemoteBlobs blobs) {
            this.blobs = blobs;
        }

        /** A stored result, if every blob it names (files, trees, stdout, stderr) is in the CAS; else NOT_FOUND, a miss. */
        @Override
        public Uni<ActionResult> getActionResult(GetActionResultRequest request) {
            return call(false, blobs, grant -> {
                sha256Only(request.getDigestFunction());
                String key = RemoteBlobs.hash(request.getActionDigest());
                return blobs.readAll(grant.tenantId(), RemoteBlobs.AC, key, -1).chain(bytes -> {
                    if (bytes.isEmpty()) {
                        throw new ArtifactException(404, "not-found", "no action result for " + key);
                    }
                    ActionResult result;
                    try {
                        result = ActionResult.parseFrom(bytes.get());
                    } catch (InvalidProtocolBufferException e) {
                        throw new ArtifactException(404, "not-found", "the stored result of " + key + " is unreadable");
                    }
                    return allPresent(grant.tenantId(), referenced(result)).map(present -> {
                        if (!present) {
                            throw new ArtifactException(404, "not-found", "the result of " + key + " names outputs no longer cached");
                        }
                        return result;
                    });
                });
            });
        }

        @Override
        public Uni<ActionResult> updateActionResult(UpdateActionResultRequest request) {
            return call(true, blobs, grant -> {
                sha256Only(request.getDigestFunction());
                String key = RemoteBlobs.hash(request.getActionDigest());
                ActionResult result = request.getActionResult();
                referenced(result).forEach(RemoteBlobs::hash); // every digest it names is a SHA-256
                return blobs.save(grant, RemoteBlobs.AC, key, result.toByteArray()).replaceWith(result);
            });
        }

        private static List<Digest> referenced(ActionResult result) {
            List<Digest> digests = new ArrayList<>();
            for (OutputFile file : result.getOutputFilesList()) {
                if (file.hasDigest()) {
                    digests.add(file.getDigest());
                }
            }
            for (OutputDirectory dir : result.getOutputDirectoriesList()) {
                if (dir.hasTreeDigest()) {
                    digests.add(dir.getTreeDigest());
                }
            }
            if (result.hasStdoutDigest()) {
                digests.add(result.getStdoutDigest());
            }
            if (result.hasStderrDigest()) {
                digests.add(result.getStderrDigest());
            }
            return digests;
        }

        private Uni<Boolean> allPresent(String tenantId, List<Digest> digests) {
            if (digests.isEmpty()) {
                return Uni.createFrom().item(true);
            }
            return blobs.present(tenantId, digests).map(present -> present.containsAll(digests));
        }
    }

    @GrpcService
    public static class CasService implements ContentAddressableStorage {
        private final RemoteBlobs blobs;

        public CasService(RemoteBlobs blobs) {
            this.blobs = blobs;
        }

        @Override
        public Uni<FindMissingBlobsResponse> findMissingBlobs(FindMissingBlobsRequest request) {
            return call(false, blobs, grant -> {
                sha256Only(request.getDigestFunction());
                request.getBlobDigestsList().forEach(RemoteBlobs::hash);
                return blobs.present(grant.tenantId(), request.getBlobDigestsList()).map(present -> FindMissingBlobsResponse.newBuilder()
                        .addAllMissingBlobDigests(request.getBlobDigestsList().stream().filter(d -> !present.contains(d)).toList()).build());
            });
        }

        @Override
        public Uni<BatchUpdateBlobsResponse> batchUpdateBlobs(BatchUpdateBlobsRequest request) {
            return call(true, blobs, grant -> {
                sha256Only(request.getDigestFunction());
                long total = request.getRequestsList().stream().mapToLong(r -> r.getData().size()).sum();
                if (total > RemoteBlobs.MAX_BATCH_BYTES) {
                    throw new ArtifactException(400, "bad-request", "the batch holds " + total + " bytes; at most "
                            + RemoteBlobs.MAX_BATCH_BYTES + " (max_batch_total_size_bytes): send larger blobs with ByteStream.Write");
                }
                return inOrder(request.getRequestsList().stream().map(r -> update(grant, r)
                                .map(ignored -> BatchUpdateBlobsResponse.Response.newBuilder().setDigest(r.getDigest())
                                        .setStatus(RemoteBlobs.ok()).build())
                                .onFailure().recoverWithItem(e -> BatchUpdateBlobsResponse.Response.newBuilder()
                                        .setDigest(r.getDigest()).setStatus(RemoteBlobs.rpcStatus(e)).build())).toList())
                        .map(answers -> BatchUpdateBlobsResponse.newBuilder().addAllResponses(answers).build());
            });
        }

        private Uni<Long> update(Grant grant, BatchUpdateBlobsRequest.Request r) {
            return Uni.createFrom().deferred(() -> {
                String hash = RemoteBlobs.hash(r.getDigest());
                if (r.getCompressorValue() != 0) {
                    throw new ArtifactException(400, "bad-request", "compressed uploads are not supported: send identity bytes");
                }
                byte[] data = r.getData().toByteArray();
                String actual = java.util.HexFormat.of().formatHex(dev.reprise.artifact.store.LocalBlobs.newSha256().digest(data));
                if (data.length != r.getDigest().getSizeBytes() || !actual.equals(hash)) {
                    throw new ArtifactException(400, "bad-request", "digest mismatch: the data's sha256 is " + actual + " ("
                            + data.length + " bytes) but the digest says " + hash + " (" + r.getDigest().getSizeBytes()
                            + " bytes); nothing was stored");
                }
                return RemoteBlobs.isEmpty(r.getDigest()) ? Uni.createFrom().item(0L) : blobs.save(grant, RemoteBlobs.CAS, hash, data);
            });
        }

        @Override
        public Uni<BatchReadBlobsResponse> batchReadBlobs(BatchReadBlobsRequest request) {
            return call(false, blobs, grant -> {
                sha256Only(request.getDigestFunction());
                long total = request.getDigestsList().stream().mapToLong(Digest::getSizeBytes).sum();
                if (total > RemoteBlobs.MAX_BATCH_BYTES) {
                    throw new ArtifactException(400, "bad-request", "the batch asks for " + total + " bytes; at most "
                            + RemoteBlobs.MAX_BATCH_BYTES + ": read larger blobs with ByteStream.Read");
                }
                return inOrder(request.getDigestsList().stream().map(d -> Uni.createFrom().deferred(() ->
                                        blobs.readAll(grant.tenantId(), RemoteBlobs.CAS, RemoteBlobs.hash(d), d.getSizeBytes()))
                                .map(bytes -> bytes.map(b -> BatchReadBlobsResponse.Response.newBuilder().setDigest(d)
                                                .setData(ByteString.copyFrom(b)).setStatus(RemoteBlobs.ok()).build())
                                        .orElseGet(() -> BatchReadBlobsResponse.Response.newBuilder().setDigest(d)
                                                .setStatus(RemoteBlobs.rpcStatus(new ArtifactException(404, "not-found", "no blob "
                                                        + d.getHash()))).build()))
                                .onFailure().recoverWithItem(e -> BatchReadBlobsResponse.Response.newBuilder().setDigest(d)
                                        .setStatus(RemoteBlobs.rpcStatus(e)).build())).toList())
                        .map(answers -> BatchReadBlobsResponse.newBuilder().addAllResponses(answers).build());
            });
        }

        /** Every directory under the root (breadth first, each once), in one page; a missing one is NOT_FOUND. */
        @Override
        public Multi<GetTreeResponse> getTree(GetTreeRequest request) {
            return call(false, blobs, grant -> {
                sha256Only(request.getDigestFunction());
                RemoteBlobs.hash(request.getRootDigest());
                return tree(grant.tenantId(), request.getRootDigest());
            }).onItem().transformToMulti(dirs -> Multi.createFrom().item(GetTreeResponse.newBuilder().addAllDirectories(dirs).build()));
        }

        private static final int MAX_TREE_DIRECTORIES = 100_000;

        private Uni<List<Directory>> tree(String tenantId, Digest root) {
            List<Directory> found = new ArrayList<>();
            Deque<Digest> next = new ArrayDeque<>(List.of(root));
            Set<String> seen = new HashSet<>();
            return Multi.createBy().repeating().uni(() -> {
                        Digest d = next.poll();
                        if (!seen.add(d.getHash())) {
                            return Uni.createFrom().item(Boolean.TRUE);
                        }
                        if (seen.size() > MAX_TREE_DIRECTORIES) {
                            throw new ArtifactException(400, "bad-request", "the tree has more than " + MAX_TREE_DIRECTORIES + " directories");
                        }
                        return blobs.readAll(tenantId, RemoteBlobs.CAS, RemoteBlobs.hash(d), d.getSizeBytes()).map(bytes -> {
                            if (bytes.isEmpty()) {
                                throw new ArtifactException(404, "not-found", "directory " + d.getHash() + " is not in the cache");
                            }
                            try {
                                Directory dir = Directory.parseFrom(bytes.get());
                                found.add(dir);
                                dir.getDirectoriesList().stream().map(DirectoryNode::getDigest).forEach(next::add);
                            } catch (InvalidProtocolBufferException e) {
                                throw new ArtifactException(400, "bad-request", "blob " + d.getHash() + " is not a Directory");
                            }
                            return Boolean.TRUE;
                        });
                    })
                    .whilst(ignored -> !next.isEmpty())
                    .collect().last().replaceWith(found);
        }
    }
}
