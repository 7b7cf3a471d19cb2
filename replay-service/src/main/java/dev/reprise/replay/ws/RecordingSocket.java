package dev.reprise.replay.ws;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reprise.events.Identifiers;
import dev.reprise.events.StreamTickets;
import dev.reprise.replay.access.StreamAccess;
import dev.reprise.replay.policy.CachePolicy;
import dev.reprise.replay.policy.CacheStats;
import dev.reprise.replay.record.Asciicast;
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
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.atomic.AtomicBoolean;
import org.jboss.logging.Logger;

/**
 * {@code /ws/recordings/{cacheKey}?speed=1&maxGapMs=&step=}: a cache hit. The recorded messages,
 * byte for byte and in order, paced like the live build ({@code speed} 1), faster (2, any
 * factor) or at once (0), optionally from a step (its name or number); the same protocol as the
 * live socket, closed normally at the end. A client offering the {@code v2.asciicast}
 * subprotocol gets the asciicast v2 header and events instead (asciinema's player streams it).
 * 1008 for a bad key or parameter, 4404 when the key has no recording, 1011 when the recording
 * cannot be read or the replay fails (a replay error of the ticket's tenant, reason {@code unreadable} or
 * {@code failed}; a client that leaves or breaks the connection is not one).
 */
@WebSocket(path = "/ws/recordings/{cacheKey}")
public class RecordingSocket {

    static final int NOT_FOUND = 4404;
    private static final Logger LOG = Logger.getLogger(RecordingSocket.class);

    private final RecordedBuilds recorded;
    private final CacheStats stats;
    private final ObjectMapper json;

    private final StreamAccess access;
    private final CachePolicy policy;

    public RecordingSocket(RecordedBuilds recorded, CacheStats stats, ObjectMapper json, StreamAccess access, CachePolicy policy) {
        this.access = access;
        this.policy = policy;
        this.recorded = recorded;
        this.stats = stats;
        this.json = json;
    }

    @OnOpen
    public Multi<String> onOpen(@PathParam String cacheKey, WebSocketConnection connection) {
        ReplayPacing pacing;
        String query = connection.handshakeRequest().query();
        try {
            if (!Identifiers.isCacheKey(cacheKey)) {
                throw new IllegalArgumentException("cache key must be 64 lowercase hex characters");
            }
            pacing = ReplayPacing.fromQuery(query);
        } catch (IllegalArgumentException e) {
            return close(connection, new CloseReason(1008, abbreviate(e.getMessage())));
        }
        Optional<String> tenant = access.tenantFor(StreamAccess.parameter(query, StreamTickets.QUERY_PARAMETER),
                StreamTickets.key(cacheKey));
        if (tenant.isEmpty()) {
            return close(connection, new CloseReason(StreamAccess.UNAUTHORIZED, abbreviate("missing or invalid ticket: " + StreamAccess.HOW)));
        }
        if (!policy.mode().serves()) {
            return close(connection, new CloseReason(NOT_FOUND, "replay mode is " + policy.mode() + ": nothing is replayed"));
        }
        boolean asciicast = offersAsciicast(connection);
        AtomicBoolean streaming = new AtomicBoolean();
        return recorded.byCacheKey(cacheKey)
                // Another tenant's recording of the same key is as absent as none at all.
                .map(found -> found.filter(r -> tenant.get().equals(r.header().tenantId())))
                .onItem().transformToMulti(found -> found
                        .map(recording -> {
                            streaming.set(true);
                            return replay(recording, pacing, asciicast, connection);
                        })
                        .orElseGet(() -> close(connection, new CloseReason(NOT_FOUND, "no recording for " + cacheKey))))
                .onFailure().recoverWithMulti(e -> {
                    if (!connection.isOpen()) {
                        // The client left or broke the connection (a corrupt frame closes it): not the replay's failure.
                        LOG.debugf("Replay of %s ended with the connection: %s", cacheKey, e.toString());
                        return Multi.createFrom().empty();
                    }
                    // Booked to the tenant whose ticket opened the socket, so its statistics show it.
                    String reason = streaming.get() ? "failed" : "unreadable";
                    LOG.errorf(e, "Replay of %s for tenant %s failed (%s)", cacheKey, tenant.get(), reason);
                    stats.replayError(tenant.get(), reason);
                    return close(connection, new CloseReason(1011, streaming.get() ? "replay failed" : "recording unreadable"));
                });
    }

    private Multi<String> replay(Recording recording, ReplayPacing pacing, boolean asciicast, WebSocketConnection connection) {
        int from = 0;
        if (pacing.step() != null) {
            OptionalInt start = recording.frameOfStep(pacing.step(), json);
            if (start.isEmpty()) {
                return close(connection, new CloseReason(1008, abbreviate("no step '" + pacing.step() + "'; steps: "
                        + String.join(", ", recording.steps(json)))));
            }
            from = start.getAsInt();
        }
        stats.replay(recording.header().tenantId());
        List<Recording.Frame> frames = recording.frames().subList(from, recording.frames().size());
        long[] due = pacing.dueNanos(frames);
        Multi<String> messages;
        if (asciicast) {
            List<List<String>> events = Asciicast.eventsByFrame(recording, from, json);
            messages = Multi.createBy().concatenating().streams(
                    Multi.createFrom().item(Asciicast.header(recording, json)),
                    paced(due).onItem().transformToIterable(events::get));
        } else {
            messages = paced(due).map(i -> frames.get(i).message());
        }
        return messages.onCompletion().call(() -> connection.close(CloseReason.NORMAL));
    }

    /** The frame indexes, each at its due time from the moment the replay starts. */
    private static Multi<Integer> paced(long[] due) {
        return Multi.createFrom().deferred(() -> {
            long start = System.nanoTime();
            return Multi.createFrom().range(0, due.length).onItem().call(i -> {
                long wait = start + due[i] - System.nanoTime();
                // Vert.x timers take whole milliseconds (and refuse less than one): sooner is now.
                return wait < 1_000_000
                        ? Uni.createFrom().voidItem()
                        : Uni.createFrom().voidItem().onItem().delayIt().by(Duration.ofNanos(wait));
            });
        });
    }

    private static boolean offersAsciicast(WebSocketConnection connection) {
        List<String> offered = connection.handshakeRequest().headers("Sec-WebSocket-Protocol");
        return offered != null && offered.stream().flatMap(h -> java.util.Arrays.stream(h.split(",")))
                .anyMatch(p -> Asciicast.SUBPROTOCOL.equals(p.strip()));
    }

    /** A close reason fits in 123 bytes. */
    private static String abbreviate(String reason) {
        return reason.length() > 120 ? reason.substring(0, 117) + "..." : reason;
    }

    private static Multi<String> close(WebSocketConnection connection, CloseReason reason) {
        return connection.close(reason).onItem().transformToMulti(ignored -> Multi.createFrom().empty());
    }
}
