package dev.reprise.kafka;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.time.Duration;
import java.util.Map;
import org.eclipse.microprofile.health.HealthCheckResponse;
import org.junit.jupiter.api.Test;

class KafkaReadinessCheckTest {

    @Test
    void theAdminClientGetsOnlyAdminSettingsAndTheReadinessBound() {
        Map<String, Object> config = KafkaReadinessCheck.adminConfig(Map.of(
                "bootstrap.servers", "127.0.0.1:9092",
                "security.protocol", "PLAINTEXT",
                "value.serializer", "org.example.NotForAdmins",
                "max.block.ms", 5000,
                "request.timeout.ms", 30000), Duration.ofSeconds(2));

        assertThat(config)
                .containsEntry("bootstrap.servers", "127.0.0.1:9092")
                .containsEntry("security.protocol", "PLAINTEXT")
                .containsEntry("request.timeout.ms", 2000)
                .containsEntry("default.api.timeout.ms", 2000)
                .containsEntry("client.id", "reprise-readiness")
                .doesNotContainKeys("value.serializer", "max.block.ms");
    }

    @Test
    void aBrokerThatDoesNotAnswerIsDownWithinTheBoundNotAfterAMinute() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        KafkaReadinessCheck check = new KafkaReadinessCheck(Map.of("bootstrap.servers", "127.0.0.1:" + closedPort),
                Duration.ofSeconds(1));
        try {
            long start = System.nanoTime();
            HealthCheckResponse response = check.call().await().atMost(Duration.ofSeconds(10));
            long tookMs = (System.nanoTime() - start) / 1_000_000;

            assertThat(response.getStatus()).isEqualTo(HealthCheckResponse.Status.DOWN);
            assertThat(response.getName()).isEqualTo("Kafka broker health check");
            assertThat(response.getData()).hasValueSatisfying(data ->
                    assertThat(data).containsEntry("bootstrap.servers", "127.0.0.1:" + closedPort));
            assertThat(tookMs).as("answered after %d ms", tookMs).isLessThan(5000);
        } finally {
            check.close();
        }
    }
}
