// Live path (issue 12): a line printed by a build, to the runner, through Kafka, to replay-service,
// to a WebSocket client following the build. Needs Reprise running; run with bench/run live.
//
// java bench/LiveBench.java GATEWAY_URL TOKEN WORKDIR RESULTS_JSON
//
// Each round starts BUILDS builds at once (default 2, the runner's default concurrency), each
// printing LINES lines (default 300) 20 ms apart, every line carrying the wall-clock time the
// build printed it (date +%s%N). CLIENTS sockets (default 10) follow each build live from before
// its first line. A line's delay is the time a client received it minus the time it was printed:
// the whole path, on one clock. Every client must see every line once, in order.
import java.net.URI;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class LiveBench {

    static final Pattern LINE = Pattern.compile("live (\\d+) (\\d{19})");

    public static void main(String[] args) throws Exception {
        ReplayBench.gateway = args[0];
        ReplayBench.token = args[1];
        Path work = Path.of(args[2]);
        Path results = Path.of(args[3]);
        int rounds = Integer.parseInt(System.getenv().getOrDefault("ROUNDS", "3"));
        int builds = Integer.parseInt(System.getenv().getOrDefault("BUILDS", "2"));
        int clients = Integer.parseInt(System.getenv().getOrDefault("CLIENTS", "10"));
        int lines = Integer.parseInt(System.getenv().getOrDefault("LINES", "300"));

        List<Double> delays = Collections.synchronizedList(new ArrayList<>());
        long received = 0;
        long start = System.nanoTime();
        for (int round = 0; round < rounds; round++) {
            List<Follower> followers = new ArrayList<>();
            for (int b = 0; b < builds; b++) {
                // The build waits a second before its first line, so every client is following by then.
                String repo = ReplayBench.repo(work.resolve("live-" + round + "-" + b + "-" + System.nanoTime()),
                        "sleep 1; for i in $(seq 1 " + lines + "); do echo \"live $i $(date +%s%N)\"; sleep 0.02; done");
                String url = ReplayBench.submit(repo, false, "live build");
                for (int c = 0; c < clients; c++) {
                    Follower f = new Follower();
                    ReplayBench.HTTP.newWebSocketBuilder().buildAsync(URI.create(url), f).join();
                    followers.add(f);
                }
            }
            for (Follower f : followers) {
                int code = f.closed.get(5, TimeUnit.MINUTES);
                ReplayBench.check(code == 1000, "live socket closed with " + code);
                ReplayBench.check(f.numbers.size() == lines, "a client saw " + f.numbers.size() + " of " + lines + " lines");
                for (int i = 0; i < lines; i++) {
                    ReplayBench.check(f.numbers.get(i) == i + 1, "lines out of order or repeated: " + f.numbers.subList(0, i + 1));
                }
                delays.addAll(f.delaysMs);
                received += f.numbers.size();
            }
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        String json = String.format(Locale.ROOT, """
                {"date":"%s","rounds":%d,"builds_at_once":%d,"clients_per_build":%d,"lines_per_build":%d,
                 "line_delay_ms":%s,"lines_received":%d,"lines_received_per_s":%.0f}
                """, Instant.now(), rounds, builds, clients, lines, ReplayBench.dist(delays), received, received / seconds);
        Files.writeString(results, json);
        System.out.print(json);
    }

    /** A client following one build: each line's number and delay. */
    static final class Follower implements WebSocket.Listener {
        final List<Integer> numbers = new ArrayList<>();
        final List<Double> delaysMs = new ArrayList<>();
        final StringBuilder partial = new StringBuilder();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();

        @Override
        public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                Instant now = Instant.now();
                long nowNanos = now.getEpochSecond() * 1_000_000_000L + now.getNano();
                Matcher m = LINE.matcher(partial);
                while (m.find()) {
                    numbers.add(Integer.parseInt(m.group(1)));
                    delaysMs.add((nowNanos - Long.parseLong(m.group(2))) / 1e6);
                }
                partial.setLength(0);
            }
            socket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket socket, int code, String reason) {
            closed.complete(code);
            return null;
        }

        @Override
        public void onError(WebSocket socket, Throwable error) {
            closed.completeExceptionally(error);
        }
    }
}
