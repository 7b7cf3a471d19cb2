package dev.reprise.replay.ws;

import dev.reprise.events.Identifiers;
import dev.reprise.events.StreamTickets;
import dev.reprise.replay.access.StreamAccess;
import dev.reprise.replay.live.LiveBuilds;
import dev.reprise.replay.record.RecordedBuilds;
import dev.reprise.replay.record.Recording;
import io.quarkus.websockets.next.CloseReason;
import io.quarkus.websockets.next.OnOpen;
import io.quarkus.websockets.next.PathParam;
import io.quarkus.websockets.next.WebSocket;
import io.quarkus.websockets.next.WebSocketConnection;
import io.smallrye.mutiny.Multi;

/**
 * {@code /ws/builds/{id}}: the build's messages (CloudEvents JSON, exactly as the runner
 * published them) from the first, then live, in order; a normal close (1000) after
 * BuildCompleted. A build no longer held live is served from its recording. Messages from the
 * client are ignored.
 */
@WebSocket(path = "/ws/builds/{id}")
public class BuildStreamSocket {

    private final LiveBuilds live;
    private final RecordedBuilds recorded;

    private final StreamAccess access;

    public BuildStreamSocket(LiveBuilds live, RecordedBuilds recorded, StreamAccess access) {
        this.access = access;
        this.live = live;
        this.recorded = recorded;
    }

    @OnOpen
    public Multi<String> onOpen(@PathParam String id, WebSocketConnection connection) {
        if (!Identifiers.isBuildId(id)) {
            return connection.close(new CloseReason(1008, "invalid build id"))
                    .onItem().transformToMulti(ignored -> Multi.createFrom().empty());
        }
        // The gateway issues the ticket for a build only to its own tenant.
        String ticket = StreamAccess.parameter(connection.handshakeRequest().query(), StreamTickets.QUERY_PARAMETER);
        if (access.tenantFor(ticket, StreamTickets.build(id)).isEmpty()) {
            return connection.close(new CloseReason(StreamAccess.UNAUTHORIZED, "missing or invalid ticket: open the build's streamUrl from the gateway"))
                    .onItem().transformToMulti(ignored -> Multi.createFrom().empty());
        }
        Multi<String> messages = live.isKnown(id)
                ? live.follow(id)
                : recorded.byBuildId(id).onItem().transformToMulti(recording -> recording
                        .map(r -> Multi.createFrom().iterable(r.frames()).map(Recording.Frame::message))
                        .orElseGet(() -> live.follow(id)));
        return messages.onCompletion().call(() -> connection.close(CloseReason.NORMAL));
    }
}
