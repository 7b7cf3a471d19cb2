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
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
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
            List<ReplayBench.Stream> followers = new ArrayList<>();
            for (int b = 0; b < builds; b++) {
                // The build waits a second before its first line, so every client is following by then.
                String repo = ReplayBench.repo(work.resolve("live-" + round + "-" + b + "-" + System.nanoTime()),
                        "sleep 1; for i in $(seq 1 " + lines + "); do echo \"live $i $(date +%s%N)\"; sleep 0.02; done");
                String url = ReplayBench.submit(repo, false, "live build");
                for (int c = 0; c < clients; c++) {
                    ReplayBench.Stream f = new ReplayBench.Stream();
                    ReplayBench.HTTP.newWebSocketBuilder().buildAsync(URI.create(url), f).join();
                    followers.add(f);
                }
            }
            for (ReplayBench.Stream f : followers) {
                int code = f.closed.get(5, TimeUnit.MINUTES);
                ReplayBench.check(code == 1000, "live socket closed with " + code);
                // Each printed line's number and delay: its arrival minus the time the build printed it.
                List<Integer> numbers = new ArrayList<>();
                for (int m = 0; m < f.messages.size(); m++) {
                    Matcher line = LINE.matcher(f.messages.get(m));
                    while (line.find()) {
                        numbers.add(Integer.parseInt(line.group(1)));
                        delays.add((f.arrivedEpochNanos.get(m) - Long.parseLong(line.group(2))) / 1e6);
                    }
                }
                ReplayBench.check(numbers.size() == lines, "a client saw " + numbers.size() + " of " + lines + " lines");
                for (int i = 0; i < lines; i++) {
                    ReplayBench.check(numbers.get(i) == i + 1, "lines out of order or repeated: " + numbers.subList(0, i + 1));
                }
                received += numbers.size();
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
}
