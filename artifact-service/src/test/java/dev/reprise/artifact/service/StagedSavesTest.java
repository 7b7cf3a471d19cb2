package dev.reprise.artifact.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.reprise.artifact.config.ArtifactConfig;
import dev.reprise.artifact.store.ArtifactIndex.EntryWrite;
import dev.reprise.artifact.store.ArtifactIndex.Hit;
import dev.reprise.artifact.store.ArtifactIndex.Provenance;
import dev.reprise.artifact.store.LocalBlobs;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.json.JsonObject;
import java.lang.reflect.Proxy;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.HexFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The staging directory of write-behind saves: what a restart takes up again, and what it drops. */
class StagedSavesTest {

    @TempDir
    Path data;

    private final SimpleMeterRegistry registry = new SimpleMeterRegistry();

    @Test
    void aStagedSaveSurvivesARestartAndADamagedOneIsDroppedNotServed() throws Exception {
        StagedSaves first = saves();
        first.recover();
        byte[] good = "the bytes acknowledged".getBytes(StandardCharsets.UTF_8);
        byte[] bad = "bytes that will be damaged".getBytes(StandardCharsets.UTF_8);
        long goodId = first.stage(write("k-good", good), upload(good)).await().atMost(Duration.ofSeconds(10));
        long badId = first.stage(write("k-bad", bad), upload(bad)).await().atMost(Duration.ofSeconds(10));
        assertThat(goodId).as("a staged save has no row yet: a negative id").isNegative();
        Hit staged = first.lookup("t1", "ccache", "k-good", "").orElseThrow();
        assertThat(first.blobOf(staged)).get().satisfies(p -> assertThat(p).hasBinaryContent(good));
        assertThat(first.pendingBytes("t1")).isEqualTo(good.length + bad.length);

        // The process dies: the damaged blob's bytes change on disk; a half-written record and an
        // unacknowledged blob are lying about.
        Path staging = data.resolve("staged");
        Files.write(staging.resolve(String.format("%016x.blob", -badId)), "other".getBytes(StandardCharsets.UTF_8));
        Files.writeString(staging.resolve("00000000000000ff.json.tmp"), "{");
        Files.write(staging.resolve("00000000000000fe.blob"), good);

        StagedSaves second = saves();
        second.recover();

        Hit recovered = second.lookup("t1", "ccache", "k-good", "").orElseThrow();
        assertThat(recovered.digest()).isEqualTo(sha256(good));
        assertThat(recovered.metadata()).isEqualTo(new JsonObject().put("m", 1));
        assertThat(second.blobOf(recovered)).get().satisfies(p -> assertThat(p).hasBinaryContent(good));
        assertThat(second.lookup("t1", "ccache", "k-bad", "")).as("never served with other bytes").isEmpty();
        assertThat(registry.counter("reprise_artifact_staged_dropped_total").count()).isEqualTo(1);
        assertThat(second.pendingBytes("t1")).isEqualTo(good.length);
        try (var files = Files.list(staging)) {
            assertThat(files.map(p -> p.getFileName().toString()).sorted())
                    .containsExactly(String.format("%016x.blob", -goodId), String.format("%016x.json", -goodId));
        }

        // New saves continue the order after the recovered ones (a later save of a key wins).
        byte[] newer = "newer".getBytes(StandardCharsets.UTF_8);
        long newerId = second.stage(write("k-good", newer), upload(newer)).await().atMost(Duration.ofSeconds(10));
        assertThat(-newerId).isGreaterThan(-goodId);
        assertThat(second.lookup("t1", "ccache", "k-good", "")).map(Hit::digest).contains(sha256(newer));
        assertThat(second.stored("t2", Duration.ofMillis(10)).await().atMost(Duration.ofSeconds(1)))
                .as("nothing of another tenant's to wait for").isNull();
    }

    @Test
    void anEntryWithProvenanceComesBackFromItsRecordAsItWasWritten() {
        EntryWrite write = new EntryWrite("t1", "gradle", "key", "v1", "ab".repeat(32), 42, "https://example.com/r", "main",
                OffsetDateTime.of(2030, 1, 2, 3, 4, 5, 0, ZoneOffset.UTC), new JsonObject().put("a", "b"),
                new Provenance("https://example.com/r", "c0ffee", "a message", "main", new JsonObject().put("java", "17"), "b-1",
                        1234L, new JsonObject().put("x", "y"), "f".repeat(64)));
        assertThat(StagedSaves.fromJson(new JsonObject(StagedSaves.toJson(write).encode()))).isEqualTo(write);
        EntryWrite bare = new EntryWrite("t1", "ccache", "k", "", "cd".repeat(32), 0, null, null, null, new JsonObject(), null);
        assertThat(StagedSaves.fromJson(new JsonObject(StagedSaves.toJson(bare).encode()))).isEqualTo(bare);
    }

    private StagedSaves saves() throws Exception {
        Files.createDirectories(data.resolve("staged"));
        Files.createDirectories(data.resolve("spool"));
        Object writeBehind = Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {ArtifactConfig.WriteBehind.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "enabled" -> true;
                    case "maxBytes" -> 1L << 30;
                    case "maxEntries" -> 1000;
                    case "batch" -> 10;
                    case "uploads" -> 2;
                    case "linger" -> Duration.ZERO;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
        ArtifactConfig config = (ArtifactConfig) Proxy.newProxyInstance(getClass().getClassLoader(), new Class<?>[] {ArtifactConfig.class},
                (proxy, method, args) -> switch (method.getName()) {
                    case "dataDir" -> data;
                    case "hitCacheTtl" -> Duration.ZERO;
                    case "writeBehind" -> writeBehind;
                    default -> throw new UnsupportedOperationException(method.getName());
                });
        return new StagedSaves(config, null, null, null, null, null, new HitCache(config, registry), registry);
    }

    private Cas.Upload upload(byte[] bytes) throws Exception {
        Path spool = data.resolve("spool").resolve(java.util.UUID.randomUUID().toString());
        Files.write(spool, bytes);
        return new Cas.Upload(spool, sha256(bytes), bytes.length);
    }

    private static EntryWrite write(String key, byte[] bytes) {
        return new EntryWrite("t1", "ccache", key, "", sha256(bytes), bytes.length, null, null, null, new JsonObject().put("m", 1),
                Provenance.NONE);
    }

    private static String sha256(byte[] bytes) {
        return HexFormat.of().formatHex(LocalBlobs.newSha256().digest(bytes));
    }
}
