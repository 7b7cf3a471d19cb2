package dev.reprise.replay.ws;

import dev.reprise.events.Identifiers;
import dev.reprise.replay.record.RecordedBuilds;
import dev.reprise.replay.record.Recording;
import dev.reprise.replay.record.ReplayPacing;
import io.quarkus.websockets.next.CloseReason;
import io.quarkus.websockets.next.OnOpen;
import io.quarkus.websockets.next.PathParam;
import io.quarkus.websockets.next.WebSocket;
import io.quarkus.websockets.next.WebSocketConnection;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import java.time.Duration;
import java.util.List;

/**
 * {@code /ws/recordings/{cacheKey}?speed=1&maxGapMs=}: a cache hit. The recorded messages, byte
 * for byte and in order, paced like the live build ({@code speed} 1), faster (2, any factor) or
 * at once (0); the same protocol as the live socket, closed normally at the end. 1008 for a bad
 * key or parameter, 4404 when the key has no recording.
 */
@WebSocket(path = "/ws/recordings/{cacheKey}")
public class RecordingSocket {

    static final int NOT_FOUND = 4404;

    private final RecordedBuilds recorded;

    public RecordingSocket(RecordedBuilds recorded) {
        this.recorded = recorded;
    }

    @OnOpen
    public Multi<String> onOpen(@PathParam String cacheKey, WebSocketConnection connection) {
        ReplayPacing pacing;
        try {
            if (!Identifiers.isCacheKey(cacheKey)) {
                throw new IllegalArgumentException("cache key must be 64 lowercase hex characters");
            }
            pacing = ReplayPacing.fromQuery(connection.handshakeRequest().query());
        } catch (IllegalArgumentException e) {
            return close(connection, new CloseReason(1008, e.getMessage()));
        }
        return recorded.byCacheKey(cacheKey).onItem().transformToMulti(found -> found
                .map(recording -> paced(recording.frames(), pacing)
                        .onCompletion().call(() -> connection.close(CloseReason.NORMAL)))
                .orElseGet(() -> close(connection, new CloseReason(NOT_FOUND, "no recording for " + cacheKey))));
    }

    private static Multi<String> paced(List<Recording.Frame> frames, ReplayPacing pacing) {
        List<Duration> delays = pacing.delays(frames);
        return Multi.createFrom().range(0, frames.size()).onItem().call(i -> delays.get(i).isZero()
                        ? Uni.createFrom().voidItem()
                        : Uni.createFrom().voidItem().onItem().delayIt().by(delays.get(i)))
                .map(i -> frames.get(i).message());
    }

    private static Multi<String> close(WebSocketConnection connection, CloseReason reason) {
        return connection.close(reason).onItem().transformToMulti(ignored -> Multi.createFrom().empty());
    }
}
