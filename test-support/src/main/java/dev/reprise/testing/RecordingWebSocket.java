package dev.reprise.testing;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/** A WebSocket client that keeps every text message exactly as received, and the close code. */
public class RecordingWebSocket implements WebSocket.Listener {

    private final List<String> messages = new ArrayList<>();
    private final StringBuilder partial = new StringBuilder();
    private final CompletableFuture<Integer> closed = new CompletableFuture<>();

    private volatile String subprotocol;

    /** Opens a socket to {@code url}, offering {@code subprotocols} when given. */
    public static RecordingWebSocket open(String url, String... subprotocols) {
        RecordingWebSocket socket = new RecordingWebSocket();
        WebSocket.Builder builder = HttpClient.newHttpClient().newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5));
        if (subprotocols.length > 0) {
            builder.subprotocols(subprotocols[0], java.util.Arrays.copyOfRange(subprotocols, 1, subprotocols.length));
        }
        socket.subprotocol = builder.buildAsync(URI.create(url), socket).join().getSubprotocol();
        return socket;
    }

    /** The subprotocol the server chose ("" when none). */
    public String subprotocol() {
        return subprotocol;
    }

    @Override
    public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
        partial.append(data);
        if (last) {
            synchronized (messages) {
                messages.add(partial.toString());
            }
            partial.setLength(0);
        }
        socket.request(1);
        return null;
    }

    @Override
    public CompletionStage<?> onClose(WebSocket socket, int statusCode, String reason) {
        closed.complete(statusCode);
        return null;
    }

    @Override
    public void onError(WebSocket socket, Throwable error) {
        closed.completeExceptionally(error);
    }

    /** Waits for the server to close the socket; returns the close code. */
    public int awaitClose(Duration timeout) throws Exception {
        return closed.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    public List<String> messages() {
        synchronized (messages) {
            return List.copyOf(messages);
        }
    }
}
