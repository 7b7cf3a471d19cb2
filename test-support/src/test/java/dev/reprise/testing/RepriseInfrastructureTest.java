package dev.reprise.testing;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.ServerSocket;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class RepriseInfrastructureTest {

    @Test
    void addressesComeFromTheEnvironmentFirst() {
        Map<String, String> env = Map.of(
                "KAFKA_BOOTSTRAP_SERVERS", "kafka-1:19092,kafka-2:19092",
                "PG_HOST", "db", "PG_PORT", "15432",
                "REDIS_URL", "redis://cache:16379",
                "S3_ENDPOINT", "http://objects:19000");
        assertThat(Store.KAFKA.address(env)).hasToString("kafka-1:19092");
        assertThat(Store.POSTGRES.address(env)).hasToString("db:15432");
        assertThat(Store.REDIS.address(env)).hasToString("cache:16379");
        assertThat(Store.S3.address(env)).hasToString("objects:19000");
    }

    @Test
    void defaultsAreTheLocalScriptsLoopbackPorts() {
        assertThat(Store.KAFKA.address(Map.of())).hasToString("127.0.0.1:9092");
        assertThat(Store.POSTGRES.address(Map.of())).hasToString("127.0.0.1:5432");
        assertThat(Store.REDIS.address(Map.of())).hasToString("127.0.0.1:6379");
        assertThat(Store.S3.address(Map.of())).hasToString("127.0.0.1:9000");
    }

    @Test
    void aMissingStoreIsNamedWithTheCommandThatStartsIt() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        Map<String, String> env = Map.of("KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:" + closedPort);
        assertThat(RepriseInfrastructure.reachable(Store.KAFKA.address(env))).isFalse();

        String message = new RepriseInfrastructure(env).missingMessage(List.of(Store.KAFKA));
        assertThat(message)
                .contains("Kafka is not reachable at 127.0.0.1:" + closedPort)
                .contains("deploy/local/infra.sh up kafka")
                .contains("KAFKA_BOOTSTRAP_SERVERS")
                .doesNotContain("\n");
    }

    @Test
    void aListeningStoreIsReachable() throws IOException {
        try (ServerSocket socket = new ServerSocket(0)) {
            Map<String, String> env = Map.of("REDIS_URL", "redis://127.0.0.1:" + socket.getLocalPort());
            assertThat(RepriseInfrastructure.reachable(Store.REDIS.address(env))).isTrue();
        }
    }
}
