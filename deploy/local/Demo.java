import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The demo a newcomer sees after `./reprise up`: request a build at the gateway and watch its
 * stream arrive over WebSocket, as any client would; then request the same build again and watch
 * it come back from the cache. Single-file program (java Demo.java …), JDK only, no dependencies;
 * it reads the few JSON fields it needs with patterns.
 *
 * Usage: java Demo.java GATEWAY_URL TOKEN REPOSITORY_URL
 */
public class Demo {

    public static void main(String[] args) throws Exception {
        String first = build(args[0], args[1], args[2]);
        if (!first.startsWith("SUCCESS")) {
            System.exit(1);
        }
        Thread.sleep(1500); // the recorder stores the recording right after the build completes
        System.out.println();
        System.exit(build(args[0], args[1], args[2]).startsWith("SUCCESS") ? 0 : 1);
    }

    private static String build(String gateway, String token, String repository) throws Exception {
        HttpClient http = HttpClient.newHttpClient();
        String body = "{\"repository\":\"" + repository + "\",\"ref\":\"main\",\"tool\":\"custom\",\"command\":\"./build.sh\"}";
        long start = System.nanoTime();
        HttpResponse<String> response;
        try {
            response = http.send(HttpRequest.newBuilder(URI.create(gateway + "/api/v1/builds"))
                    .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        } catch (java.net.ConnectException e) {
            System.err.println("demo: the gateway does not answer at " + gateway + "; start it with ./reprise up");
            System.exit(1);
            return "";
        }
        if (response.statusCode() != 202) {
            System.err.println("demo: the gateway answered " + response.statusCode() + ": " + response.body());
            System.exit(1);
        }
        String buildId = field(response.body(), "buildId");
        boolean cached = response.body().contains("\"cached\":true");
        System.out.printf("demo: build %s — %s%n", buildId, cached
                ? "cache HIT (" + field(response.body(), "label") + "), replaying the recording"
                : "cache MISS, running it live");

        CompletableFuture<String> status = new CompletableFuture<>();
        String streamUrl = field(response.body(), "streamUrl");
        streamUrl += cached ? (streamUrl.contains("?") ? "&" : "?") + "speed=0" : "";
        http.newWebSocketBuilder().buildAsync(URI.create(streamUrl), new WebSocket.Listener() {
            private final StringBuilder partial = new StringBuilder();

            @Override
            public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
                partial.append(data);
                if (last) {
                    show(partial.toString(), status);
                    partial.setLength(0);
                }
                socket.request(1);
                return null;
            }

            @Override
            public CompletionStage<?> onClose(WebSocket socket, int code, String reason) {
                status.complete(status.getNow("closed (" + code + ")"));
                return null;
            }
        }).join();
        String result = status.get(5, TimeUnit.MINUTES);
        System.out.printf("demo: %s after %d ms from request to last byte%n", result,
                TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start));
        return result;
    }

    private static void show(String message, CompletableFuture<String> status) {
        String type = field(message, "type");
        switch (type) {
            case "dev.reprise.build.output.v1" -> {
                String chunk = unescape(field(message, "chunk"));
                (message.contains("\"stream\":\"STDERR\"") ? System.err : System.out).print(chunk);
            }
            case "dev.reprise.build.step-started.v1" -> System.out.println("── step " + field(message, "name"));
            case "dev.reprise.build.step-cache.v1" -> System.out.println("   task cache: " + field(message, "result")
                    + (message.contains("\"result\":\"hit\"") ? " (" + field(message, "source") + ")" : ""));
            case "dev.reprise.build.dependency-cache.v1" -> System.out.println("   dependency cache: " + field(message, "result")
                    + (message.contains("\"builtFrom\":\"") ? " · built from " + unescape(field(message, "builtFrom")) : ""));
            case "dev.reprise.build.completed.v1" -> status.complete(field(message, "status"));
            default -> { }
        }
    }

    private static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":\"((?:[^\"\\\\]|\\\\.)*)\"").matcher(json);
        return m.find() ? m.group(1) : "";
    }

    private static String unescape(String s) {
        return s.replace("\\n", "\n").replace("\\t", "\t").replace("\\\"", "\"").replace("\\\\", "\\");
    }
}
