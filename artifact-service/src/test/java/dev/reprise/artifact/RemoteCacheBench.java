package dev.reprise.artifact;

import build.bazel.remote.execution.v2.BatchReadBlobsRequest;
import build.bazel.remote.execution.v2.BatchReadBlobsResponse;
import build.bazel.remote.execution.v2.BatchUpdateBlobsRequest;
import build.bazel.remote.execution.v2.ContentAddressableStorageGrpc;
import build.bazel.remote.execution.v2.Digest;
import build.bazel.remote.execution.v2.FindMissingBlobsRequest;
import com.google.protobuf.ByteString;
import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Metadata;
import io.grpc.stub.MetadataUtils;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * Bazel's gRPC cache path against the running artifact-service (bench/run grpc; never part of the suite):
 * FindMissingBlobs of 1,000 digests (all present, then all absent) and BatchReadBlobs of 100 blobs of 4 KB,
 * as Bazel calls them before and after an action, p50/p99 over rounds on one channel.
 */
@Tag("bench")
class RemoteCacheBench {

    private static final int ROUNDS = Integer.getInteger("bench.rounds", 50);

    @Test
    void findMissingAndBatchRead() throws Exception {
        String token = System.getProperty("bench.token");
        int port = Integer.getInteger("bench.grpc-port", 8093);
        ManagedChannel channel = ManagedChannelBuilder.forAddress("127.0.0.1", port).usePlaintext().maxInboundMessageSize(8 << 20).build();
        Metadata headers = new Metadata();
        headers.put(Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER), "Bearer " + token);
        var cas = ContentAddressableStorageGrpc.newBlockingStub(channel).withInterceptors(MetadataUtils.newAttachHeadersInterceptor(headers));
        Random random = new Random();
        List<Digest> present = new ArrayList<>();
        List<ByteString> contents = new ArrayList<>();
        for (int batch = 0; batch < 2; batch++) {
            BatchUpdateBlobsRequest.Builder upload = BatchUpdateBlobsRequest.newBuilder();
            for (int i = 0; i < 500; i++) {
                byte[] blob = new byte[4096];
                random.nextBytes(blob);
                Digest d = digest(blob);
                present.add(d);
                contents.add(ByteString.copyFrom(blob));
                upload.addRequests(BatchUpdateBlobsRequest.Request.newBuilder().setDigest(d).setData(ByteString.copyFrom(blob)));
            }
            long failed = cas.batchUpdateBlobs(upload.build()).getResponsesList().stream().filter(r -> r.getStatus().getCode() != 0).count();
            if (failed > 0) {
                throw new AssertionError(failed + " uploads failed");
            }
        }
        List<Digest> absent = new ArrayList<>();
        for (int i = 0; i < 1000; i++) {
            byte[] blob = new byte[32];
            random.nextBytes(blob);
            absent.add(digest(blob));
        }
        FindMissingBlobsRequest allPresent = FindMissingBlobsRequest.newBuilder().addAllBlobDigests(present).build();
        FindMissingBlobsRequest allAbsent = FindMissingBlobsRequest.newBuilder().addAllBlobDigests(absent).build();
        for (int i = 0; i < 10; i++) { // warm-up (JIT, the hit cache)
            cas.findMissingBlobs(allPresent);
            cas.findMissingBlobs(allAbsent);
        }
        double[] hits = time(() -> check(cas.findMissingBlobs(allPresent).getMissingBlobDigestsCount() == 0, "present reported missing"));
        double[] misses = time(() -> check(cas.findMissingBlobs(allAbsent).getMissingBlobDigestsCount() == 1000, "absent reported present"));
        double[] reads = time(() -> {
            int from = random.nextInt(900);
            BatchReadBlobsResponse answer = cas.batchReadBlobs(BatchReadBlobsRequest.newBuilder()
                    .addAllDigests(present.subList(from, from + 100)).build());
            for (int i = 0; i < 100; i++) {
                check(answer.getResponses(i).getData().equals(contents.get(from + i)), "a blob came back different");
            }
        });
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        String json = String.format(Locale.ROOT, """
                {"find_missing_1000_present_ms":%s,"find_missing_1000_absent_ms":%s,"batch_read_100x4KB_ms":%s,\
                "batch_read_blobs_per_s_p50":%.0f,"rounds":%d}
                """, dist(hits), dist(misses), dist(reads), 100 / (pct(reads, 50) / 1000), ROUNDS);
        System.out.println(json);
        String out = System.getProperty("bench.results");
        if (out != null) {
            Files.writeString(Path.of(out), json);
        }
    }

    private static double[] time(Runnable call) {
        double[] ms = new double[ROUNDS];
        for (int i = 0; i < ROUNDS; i++) {
            long t0 = System.nanoTime();
            call.run();
            ms[i] = (System.nanoTime() - t0) / 1e6;
        }
        Arrays.sort(ms);
        return ms;
    }

    private static double pct(double[] sorted, int p) {
        return sorted[Math.min(sorted.length - 1, sorted.length * p / 100)];
    }

    private static String dist(double[] sorted) {
        return String.format(Locale.ROOT, "{\"p50\":%.1f,\"p99\":%.1f,\"max\":%.1f}", pct(sorted, 50), pct(sorted, 99), sorted[sorted.length - 1]);
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }

    private static Digest digest(byte[] bytes) throws Exception {
        return Digest.newBuilder().setHash(HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes)))
                .setSizeBytes(bytes.length).build();
    }
}
