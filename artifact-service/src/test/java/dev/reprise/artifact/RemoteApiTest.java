package dev.reprise.artifact;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import build.bazel.remote.execution.v2.ActionCacheGrpc;
import build.bazel.remote.execution.v2.ActionResult;
import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchReadBlobsResponse;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.BatchUpdateBlobsResponse;
import build.bazel.remote.execution.v2.CapabilitiesGrpc;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.DigestFunction;
import build.bazel.remote.execution.v2.Directory;
import build.bazel.remote.execution.v2.DirectoryNode;
import build.bazel.remote.execution.v2.FileNode;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import build.bazel.remote.execution.v2.GetActionResultRequest;
import build.bazel.remote.execution.v2.GetCapabilitiesRequest;
import build.bazel.remote.execution.v2.GetTreeRequest;
import build.bazel.remote.execution.v2.GetTreeResponse;
import build.bazel.remote.execution.v2.OutputFile;
import build.bazel.remote.execution.v2.ServerCapabilities;
import build.bazel.remote.execution.v2.UpdateActionResultRequest;
import com.google.bytestream.ByteStreamGrpc;
import com.google.bytestream.QueryWriteStatusRequest;
import com.google.bytestream.ReadRequest;
import com.google.bytestream.ReadResponse;
import com.google.bytestream.WriteRequest;
import com.google.bytestream.WriteResponse;
import com.google.protobuf.ByteString;
import dev.reprise.testing.RepriseInfrastructure;
import dev.reprise.testing.TestGateway;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.stub.AbstractStub;
import io.grpc.stub.MetadataUtils;
import io.grpc.stub.StreamObserver;
import io.quarkus.test.common.ResourceArg;
import io.quarkus.test.common.WithTestResource;
import io.quarkus.test.junit.QuarkusTest;
import java.io.ByteArrayOutputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.eclipse.microprofile.config.inject.ConfigProperty;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Bazel's gRPC remote cache (REAPI v2) against the real stores, through a grpc-java client as Bazel's:
 * capabilities, the CAS (batches and ByteStream, digests verified), the action cache (a result naming a
 * missing output is a miss), GetTree, auth and tenancy.
 */
@QuarkusTest
@WithTestResource(value = RepriseInfrastructure.class, initArgs = @ResourceArg(name = "stores", value = "kafka,postgres,redis,s3"))
@WithTestResource(TestGateway.class)
class RemoteApiTest {

    private static final Random RANDOM = new Random();

    @ConfigProperty(name = "quarkus.grpc.server.test-port")
    int port;

    private final String tenant = TestGateway.newTenant();
    private final String writer = TestGateway.token(tenant, "read-write");
    private ManagedChannel channel;

    @BeforeEach
    void connect() {
        channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().build();
    }

    @AfterEach
    void disconnect() throws Exception {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private <S extends AbstractStub<S>> S as(String token, S stub) {
        Metadata headers = new Metadata();
        if (token != null) {
            headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
        }
        return stub.withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers)).withDeadlineAfter(30, TimeUnit.SECONDS);
    }

    private ContentAddressableStorageGrpc.ContentAddressableStorageBlockingStub cas(String token) {
        return as(token, ContentAddressableStorageGrpc.newBlockingStub(channel));
    }

    private ActionCacheGrpc.ActionCacheBlockingStub ac(String token) {
        return as(token, ActionCacheGrpc.newBlockingStub(channel));
    }

    @Test
    void capabilitiesAdvertiseASha256CacheWithItsLimits() {
        ServerCapabilities caps = as(writer, CapabilitiesGrpc.newBlockingStub(channel)).getCapabilities(GetCapabilitiesRequest.getDefaultInstance());
        assertThat(caps.getCacheCapabilities().getDigestFunctionsList()).containsExactly(DigestFunction.Value.SHA256);
        assertThat(caps.getCacheCapabilities().getActionCacheUpdateCapabilities().getUpdateEnabled()).isTrue();
        assertThat(caps.getCacheCapabilities().getMaxBatchTotalSizeBytes()).isBetween(1L, 4L * 1024 * 1024);
        assertThat(caps.getExecutionCapabilities().getExecEnabled()).isFalse();
        assertThat(caps.getHighApiVersion().getMajor()).isEqualTo(2);
    }

    @Test
    void batchesStoreOnlyBlobsWhoseBytesMatchTheirDigestAndReadThemBack() {
        byte[] good = random(2000);
        byte[] other = random(100);
        Digest goodDigest = digest(good);
        Digest lying = digest(other).toBuilder().setHash(digest(random(100)).getHash()).build();
        assertThat(cas(writer).findMissingBlobs(FindMissingBlobsRequest.newBuilder().addBlobDigests(goodDigest).addBlobDigests(lying)
                .build()).getMissingBlobDigestsList()).containsExactlyInAnyOrder(goodDigest, lying);

        BatchUpdateBlobsResponse stored = cas(writer).batchUpdateBlobs(BatchUpdateBlobsRequest.newBuilder()
                .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(goodDigest).setData(ByteString.copyFrom(good)))
                .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(lying).setData(ByteString.copyFrom(other)))
                .build());
        assertThat(stored.getResponses(0).getStatus().getCode()).isEqualTo(Status.Code.OK.value());
        assertThat(stored.getResponses(1).getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT.value());
        assertThat(stored.getResponses(1).getStatus().getMessage()).contains("digest mismatch");

        assertThat(cas(writer).findMissingBlobs(FindMissingBlobsRequest.newBuilder().addBlobDigests(goodDigest).addBlobDigests(lying)
                .build()).getMissingBlobDigestsList()).containsExactly(lying);
        BatchReadBlobsResponse read = cas(writer).batchReadBlobs(BatchReadBlobsRequest.newBuilder().addDigests(goodDigest)
                .addDigests(lying).build());
        assertThat(read.getResponses(0).getData().toByteArray()).isEqualTo(good);
        assertThat(read.getResponses(1).getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND.value());

        // Another tenant sees none of it; a read-only token stores nothing; no token is refused.
        String stranger = TestGateway.token(TestGateway.newTenant(), "read-write");
        assertThat(cas(stranger).findMissingBlobs(FindMissingBlobsRequest.newBuilder().addBlobDigests(goodDigest).build())
                .getMissingBlobDigestsList()).containsExactly(goodDigest);
        assertThatThrownBy(() -> cas(TestGateway.token(tenant, "read")).batchUpdateBlobs(BatchUpdateBlobsRequest.newBuilder()
                .addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(goodDigest).setData(ByteString.copyFrom(good))).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.PERMISSION_DENIED));
        assertThatThrownBy(() -> cas(null).findMissingBlobs(FindMissingBlobsRequest.newBuilder().addBlobDigests(goodDigest).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNAUTHENTICATED));
        assertThatThrownBy(() -> cas(writer).findMissingBlobs(FindMissingBlobsRequest.newBuilder()
                .addBlobDigests(Digest.newBuilder().setHash("../../etc/passwd").setSizeBytes(1)).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT));
    }

    @Test
    void byteStreamMovesLargeBlobsInChunksAndRefusesAWrongDigest() throws Exception {
        byte[] blob = random(300_000);
        Digest d = digest(blob);
        WriteResponse written = write("uploads/" + UUID.randomUUID() + "/blobs/" + d.getHash() + "/" + d.getSizeBytes(), blob);
        assertThat(written.getCommittedSize()).isEqualTo(blob.length);
        assertThat(as(writer, ByteStreamGrpc.newBlockingStub(channel)).queryWriteStatus(QueryWriteStatusRequest.newBuilder()
                .setResourceName("uploads/x/blobs/" + d.getHash() + "/" + d.getSizeBytes()).build()).getComplete()).isTrue();

        assertThat(read("blobs/" + d.getHash() + "/" + d.getSizeBytes(), 0, 0)).isEqualTo(blob);
        byte[] range = read("main/blobs/" + d.getHash() + "/" + d.getSizeBytes(), 100_000, 70_000);
        assertThat(range).isEqualTo(java.util.Arrays.copyOfRange(blob, 100_000, 170_000));

        byte[] forged = random(200_000);
        Digest claimed = digest(random(200_000));
        assertThatThrownBy(() -> write("uploads/" + UUID.randomUUID() + "/blobs/" + claimed.getHash() + "/" + claimed.getSizeBytes(), forged))
                .hasMessageContaining("INVALID_ARGUMENT").hasMessageContaining("digest mismatch");
        assertThat(cas(writer).findMissingBlobs(FindMissingBlobsRequest.newBuilder().addBlobDigests(claimed).build())
                .getMissingBlobDigestsList()).containsExactly(claimed);
        assertThatThrownBy(() -> read("blobs/" + claimed.getHash() + "/" + claimed.getSizeBytes(), 0, 0)).hasMessageContaining("NOT_FOUND");
    }

    @Test
    void anActionResultIsAHitOnlyWhileEveryOutputItNamesIsCached() {
        byte[] output = random(500);
        Digest present = digest(output);
        cas(writer).batchUpdateBlobs(BatchUpdateBlobsRequest.newBuilder().addRequests(BatchUpdateBlobsRequest.Request.newBuilder()
                .setDigest(present).setData(ByteString.copyFrom(output))).build());
        Digest action = digest(random(64));
        ActionResult result = ActionResult.newBuilder().setExitCode(0)
                .addOutputFiles(OutputFile.newBuilder().setPath("bazel-out/out.txt").setDigest(present)).build();
        ac(writer).updateActionResult(UpdateActionResultRequest.newBuilder().setActionDigest(action).setActionResult(result).build());
        assertThat(ac(writer).getActionResult(GetActionResultRequest.newBuilder().setActionDigest(action).build())).isEqualTo(result);

        Digest otherAction = digest(random(64));
        ac(writer).updateActionResult(UpdateActionResultRequest.newBuilder().setActionDigest(otherAction).setActionResult(result.toBuilder()
                .addOutputFiles(OutputFile.newBuilder().setPath("bazel-out/gone.txt").setDigest(digest(random(10))))).build());
        assertThatThrownBy(() -> ac(writer).getActionResult(GetActionResultRequest.newBuilder().setActionDigest(otherAction).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
        String stranger = TestGateway.token(TestGateway.newTenant(), "read-write");
        assertThatThrownBy(() -> ac(stranger).getActionResult(GetActionResultRequest.newBuilder().setActionDigest(action).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    }

    @Test
    void getTreeAnswersEveryDirectoryUnderTheRoot() {
        Directory leaf = Directory.newBuilder().addFiles(FileNode.newBuilder().setName("a.txt").setDigest(digest(random(10)))).build();
        Directory root = Directory.newBuilder().addDirectories(DirectoryNode.newBuilder().setName("sub").setDigest(digest(leaf.toByteArray())))
                .build();
        BatchUpdateBlobsRequest.Builder upload = BatchUpdateBlobsRequest.newBuilder();
        for (Directory dir : List.of(leaf, root)) {
            upload.addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(digest(dir.toByteArray())).setData(dir.toByteString()));
        }
        cas(writer).batchUpdateBlobs(upload.build());
        Iterator<GetTreeResponse> pages = cas(writer).getTree(GetTreeRequest.newBuilder().setRootDigest(digest(root.toByteArray())).build());
        List<Directory> dirs = new java.util.ArrayList<>();
        pages.forEachRemaining(p -> dirs.addAll(p.getDirectoriesList()));
        assertThat(dirs).containsExactly(root, leaf);
    }

    private WriteResponse write(String resource, byte[] blob) throws Exception {
        CompletableFuture<WriteResponse> done = new CompletableFuture<>();
        StreamObserver<WriteRequest> out = as(writer, ByteStreamGrpc.newStub(channel)).write(new StreamObserver<>() {
            @Override
            public void onNext(WriteResponse value) {
                done.complete(value);
            }

            @Override
            public void onError(Throwable t) {
                done.completeExceptionally(t);
            }

            @Override
            public void onCompleted() {
            }
        });
        int chunk = 128 * 1024;
        for (int offset = 0; offset < blob.length; offset += chunk) {
            int n = Math.min(chunk, blob.length - offset);
            out.onNext(WriteRequest.newBuilder().setResourceName(offset == 0 ? resource : "").setWriteOffset(offset)
                    .setData(ByteString.copyFrom(blob, offset, n)).setFinishWrite(offset + n == blob.length).build());
        }
        out.onCompleted();
        return done.get(30, TimeUnit.SECONDS);
    }

    private byte[] read(String resource, long offset, long limit) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        Iterator<ReadResponse> chunks = as(writer, ByteStreamGrpc.newBlockingStub(channel)).read(ReadRequest.newBuilder()
                .setResourceName(resource).setReadOffset(offset).setReadLimit(limit).build());
        chunks.forEachRemaining(c -> bytes.writeBytes(c.getData().toByteArray()));
        return bytes.toByteArray();
    }

    private static byte[] random(int size) {
        byte[] bytes = new byte[size];
        RANDOM.nextBytes(bytes);
        return bytes;
    }

    private static Digest digest(byte[] bytes) {
        try {
            return Digest.newBuilder().setHash(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)))
                    .setSizeBytes(bytes.length).build();
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
