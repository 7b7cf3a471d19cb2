package dev.reprise.e2e;

import static dev.reprise.e2e.Builds.BUILD_TIMEOUT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reprise.testing.TestGitRepo;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.stream.LongStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.parallel.Isolated;

/** Issue 4's crash promise: replay-service killed mid-build loses nothing of the recording. Kills a service, so it runs alone. */
@Isolated
class ReplayCrashIT {

    @Test
    void aRecordingSurvivesReplayServiceBeingKilledMidBuild() throws Exception {
        TestGitRepo repo = TestGitRepo.withBuildScript("for i in $(seq 1 60); do echo \"tick $i\"; sleep 0.1; done");
        try (KafkaConsumer<String, String> topic = Builds.events()) {
            JsonNode build = Builds.live(repo.url(), "./build.sh", Map.of());
            String buildId = build.path("buildId").asText();
            List<String> published = new ArrayList<>();
            await().atMost(BUILD_TIMEOUT).until(() -> poll(topic, buildId, published) >= 10); // mid-build

            long pid = Services.pid("replay");
            Process kill = new ProcessBuilder("kill", "-9", Long.toString(pid)).inheritIO().start();
            assertThat(kill.waitFor()).isZero();
            await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
            Services.Run restart = Services.script("deploy/local/services.sh", "up", "replay");
            assertThat(restart.exitCode()).as(restart.output()).isZero();

            assertThat(Builds.awaitFinal(buildId).path("status").asText()).isEqualTo("SUCCESS");
            await().atMost(BUILD_TIMEOUT).until(() -> {
                poll(topic, buildId, published);
                return published.get(published.size() - 1).contains("dev.reprise.build.completed.v1");
            });
            List<String> recorded = Builds.awaitRecording(build.path("cacheKey").asText(), buildId);
            assertThat(recorded).as("the recording is the stream as published, once each").isEqualTo(published);
            assertThat(recorded.stream().map(ReplayCrashIT::seq).toList())
                    .isEqualTo(LongStream.rangeClosed(1, recorded.size()).boxed().toList());
        }
    }

    // --- helpers ---

    private static long seq(String message) {
        try {
            return Services.JSON.readTree(message).path("seq").asLong();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Adds the build's newly published events to {@code published}; how many there are now. */
    private static int poll(KafkaConsumer<String, String> topic, String buildId, List<String> published) {
        for (ConsumerRecord<String, String> r : topic.poll(Duration.ofMillis(200))) {
            if (buildId.equals(r.key())) {
                published.add(r.value());
            }
        }
        return published.size();
    }
}
