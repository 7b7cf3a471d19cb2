package dev.reprise.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reprise.gateway.service.CacheKeys;
import dev.reprise.replay.record.Recording;
import dev.reprise.replay.record.ReplayPacing;
import dev.reprise.taskcache.TaskKey;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The in-process work on Reprise's hot paths, without I/O: what a cold replay spends decoding a
 * ~500 KB recording, what the recorder spends encoding it, the replay schedule, the build cache
 * key the gateway computes per request, and the task-cache key over 10,000 input hashes.
 * Sample-time mode, so JMH reports p50 and p99 per operation.
 */
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgs = {"-Xmx256m", "-XX:+UseSerialGC"})
@State(Scope.Benchmark)
public class HotPathsBench {

    private final ObjectMapper json = new ObjectMapper();
    private Recording recording;
    private byte[] gzip;
    private CacheKeys.Inputs request;
    private SortedMap<String, String> inputs;
    private final ReplayPacing realTime = ReplayPacing.fromQuery("speed=1");

    @Setup
    public void setUp() {
        // Shaped like bench/run replay's big build: 8,000 output lines in 73 messages (~528 KB).
        String buildId = "0b7f6e4b-5087-4b91-b120-a9c823fc1886";
        List<Recording.Frame> frames = new ArrayList<>();
        StringBuilder chunk = new StringBuilder();
        int line = 0;
        for (int m = 0; m < 73; m++) {
            chunk.setLength(0);
            for (int i = 0; i < 110; i++) {
                chunk.append(String.format("line %05d: the quick brown fox jumps over the lazy dog 0123456789\\n", ++line));
            }
            frames.add(new Recording.Frame(m * 7L, "{\"specversion\":\"1.0\",\"id\":\"" + m + "\",\"source\":\"/reprise/build-runner-service\","
                    + "\"type\":\"dev.reprise.build.output.v1\",\"subject\":\"" + buildId + "\",\"time\":\"2026-12-02T00:54:45.419387326Z\","
                    + "\"seq\":" + (m + 3) + ",\"data\":{\"buildId\":\"" + buildId + "\",\"step\":2,\"stream\":\"STDOUT\",\"chunk\":\""
                    + chunk + "\"}}"));
        }
        recording = new Recording(new Recording.Header(Recording.FORMAT, "a".repeat(64), buildId, "dev", "file:///srv/app",
                "c".repeat(40), "custom", "SUCCESS", 511, frames.size(), 0), List.copyOf(frames));
        gzip = recording.toGzip(json);
        request = new CacheKeys.Inputs("dev", "https://github.com/org/app", "753eed928cfae001a80c8d8449ea67518e425762", "maven",
                "3.9.9", "0.1.0", "sha256:" + "b".repeat(64), null, Map.of("CI", "true", "PROFILE", "release"));
        inputs = new TreeMap<>();
        for (int i = 0; i < 10_000; i++) {
            inputs.put("src/dir" + (i % 20) + "/File" + i + ".java", String.format("%064x", i * 2654435761L));
        }
    }

    @Benchmark
    public Recording decodeRecording500KB() {
        return Recording.fromGzip(gzip, json);
    }

    @Benchmark
    public byte[] encodeRecording500KB() {
        return recording.toGzip(json);
    }

    @Benchmark
    public long[] replaySchedule() {
        return realTime.dueNanos(recording.frames());
    }

    @Benchmark
    public String buildCacheKey() {
        return CacheKeys.key(request);
    }

    @Benchmark
    public String taskKeyOf10000Inputs() {
        return TaskKey.of(inputs, List.of("sh", "-c", "mvn -B verify"), Map.of("CI", "true"), Map.of("mvn", "Apache Maven 3.8.7"));
    }
}
