package dev.reprise.e2e;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reprise.testing.RecordingWebSocket;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/** A client following one build's stream, with views of what it received. */
final class BuildStream {

    private final RecordingWebSocket socket;

    private BuildStream(RecordingWebSocket socket) {
        this.socket = socket;
    }

    static BuildStream open(String url) {
        return new BuildStream(RecordingWebSocket.open(url));
    }

    int awaitClose(Duration timeout) throws Exception {
        return socket.awaitClose(timeout);
    }

    List<String> messages() {
        return socket.messages();
    }

    List<JsonNode> events() {
        return messages().stream().map(m -> {
            try {
                return Services.JSON.readTree(m);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }).toList();
    }

    /** Everything the build printed on stdout, in order. */
    String stdout() {
        return events().stream().filter(e -> "dev.reprise.build.output.v1".equals(e.path("type").asText())
                        && "STDOUT".equals(e.path("data").path("stream").asText()))
                .map(e -> e.path("data").path("chunk").asText()).collect(Collectors.joining());
    }

    long count(String type) {
        return events().stream().filter(e -> type.equals(e.path("type").asText())).count();
    }

    JsonNode last() {
        List<JsonNode> events = events();
        return events.get(events.size() - 1);
    }

    List<Long> sequence() {
        return events().stream().map(e -> e.path("seq").asLong()).collect(Collectors.toCollection(ArrayList::new));
    }
}
