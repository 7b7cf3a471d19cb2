package dev.reprise.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * No secret in any service's log: the development token, the stream secret and the service token
 * derived from it, and the stores' generated credentials (Redis's travels inside REDIS_URL). (The
 * suite has by now run builds, hits, replays and artifact traffic with them.)
 */
class SecretsIT {

    @Test
    void noServiceLogsAToken() throws Exception {
        List<String> secrets = List.of(Services.token(), Services.streamSecret(), Services.tickets().serviceToken(), store("PG_PASSWORD"),
                store("REDIS_PASSWORD"), store("S3_SECRET_KEY"));
        Path logs = Services.home().resolve("logs");
        List<Path> files;
        try (Stream<Path> all = Files.list(logs)) {
            files = all.filter(p -> p.toString().endsWith(".log")).toList();
        }
        assertThat(files).as("service logs in " + logs).extracting(p -> p.getFileName().toString())
                .contains("gateway.log", "build-runner.log", "replay.log", "artifact.log", "image-cache.log");
        for (Path file : files) {
            String log = Files.readString(file, StandardCharsets.ISO_8859_1);
            for (String secret : secrets) {
                assertThat(log.contains(secret)).as(file.getFileName() + " holds a secret").isFalse();
            }
        }
    }

    private static String store(String variable) {
        String value = System.getenv(variable);
        assertThat(value).as(variable + " (generated per installation, exported by ./reprise test)").hasSizeGreaterThanOrEqualTo(20);
        return value;
    }
}
