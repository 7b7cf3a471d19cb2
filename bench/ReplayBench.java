// Replay speed benchmark (issue 4): a live build versus its replays at speed 1, 2 and instant, and
// instant replay of a ~500 KB recording. Needs Reprise running (./reprise up); run with bench/run replay.
//
// java bench/ReplayBench.java GATEWAY_URL TOKEN WORKDIR RESULTS_JSON
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class ReplayBench {

    static final HttpClient HTTP = HttpClient.newHttpClient();
    static String gateway;
    static String token;
    static String lastCacheKey;
    static String lastCommit;
    static final int WARMUP = 5;

    public static void main(String[] args) throws Exception {
        gateway = args[0];
        token = args[1];
        Path work = Path.of(args[2]);
        Path results = Path.of(args[3]);
        Files.createDirectories(work);
        int rounds = Integer.parseInt(System.getenv().getOrDefault("ROUNDS", "100"));

        // 1. A 5-second build: 50 lines, 100 ms apart.
        String paced = repo(work.resolve("paced-" + System.nanoTime()),
                "for i in $(seq 1 50); do echo \"compiling module $i\"; sleep 0.1; done; echo BUILD SUCCESS");
        String liveUrl = submit(paced, false, "live");
        Stream live = follow(liveUrl, "");
        awaitRecorded(liveUrl);
        Stream speed1 = follow(submit(paced, true, "speed 1"), "");
        Stream speed2 = follow(submit(paced, true, "speed 2"), "?speed=2");

        // 2. A ~500 KB recording, replayed instantly `rounds` times.
        String big = repo(work.resolve("big-" + System.nanoTime()),
                "for i in $(seq 1 8000); do printf 'line %05d: %s\\n' $i 'the quick brown fox jumps over the lazy dog 0123456789'; done");
        long bigLiveRequested = System.nanoTime();
        String bigUrl = submit(big, false, "big live");
        Stream bigLive = follow(bigUrl, "");
        awaitRecorded(bigUrl);
        double bigLiveMs = (bigLive.lastNanos - bigLiveRequested) / 1e6;
        String bigCommit = lastCommit;
        List<Double> instantMs = new ArrayList<>();
        List<Double> firstByteMs = new ArrayList<>();
        List<Double> postMs = new ArrayList<>();
        List<Double> openToFirstMs = new ArrayList<>();
        List<Double> hitTotalMs = new ArrayList<>();
        List<Double> refFirstByteMs = new ArrayList<>();
        long bigBytes = 0;
        int bigMessages = 0;
        for (int i = 0; i < rounds + WARMUP; i++) {
            // The request names the commit, as a CI job does: the hit path without git ls-remote.
            long t0 = System.nanoTime();
            String streamUrl = submit(big, bigCommit, true, null);
            long posted = System.nanoTime();
            Stream replay = follow(streamUrl, "?speed=0");
            if (!replay.messages.equals(bigLive.messages)) {
                throw new IllegalStateException("instant replay differs from the live stream");
            }
            // The same hit by branch name: the gateway resolves "main" with git ls-remote first.
            long r0 = System.nanoTime();
            Stream byRef = follow(submit(big, "main", true, null), "?speed=0");
            if (i < WARMUP) {
                continue;
            }
            firstByteMs.add((replay.firstNanos - t0) / 1e6);
            postMs.add((posted - t0) / 1e6);
            openToFirstMs.add((replay.firstNanos - replay.openedNanos) / 1e6);
            instantMs.add((replay.lastNanos - replay.openedNanos) / 1e6);
            hitTotalMs.add((replay.lastNanos - t0) / 1e6);
            refFirstByteMs.add((byRef.firstNanos - r0) / 1e6);
            bigBytes = replay.bytes;
            bigMessages = replay.messages.size();
        }
        check(speed1.messages.equals(live.messages) && speed2.messages.equals(live.messages), "paced replays differ from live");

        double liveMs = live.spanMs();
        String json = String.format(Locale.ROOT, """
                {"date":"%s","rounds":%d,
                 "live_span_ms":%.1f,"speed1_span_ms":%.1f,"speed1_ratio":%.3f,"speed2_span_ms":%.1f,"speed2_ratio_to_half":%.3f,
                 "big_messages":%d,"big_message_bytes":%d,
                 "instant_replay_ms":{"min":%.1f,"p50":%.1f,"p99":%.1f,"max":%.1f},
                 "hit_request_to_first_byte_ms":%s,
                 "hit_post_ms":%s,"hit_socket_open_to_first_byte_ms":%s,
                 "hit_by_branch_request_to_first_byte_ms":%s,
                 "live_request_to_last_byte_ms":%.1f,"hit_request_to_last_byte_ms":%s,"speedup_p50":%.1f}
                """, java.time.Instant.now(), rounds, liveMs, speed1.spanMs(), speed1.spanMs() / liveMs, speed2.spanMs(),
                speed2.spanMs() / (liveMs / 2), bigMessages, bigBytes,
                pct(instantMs, 0), pct(instantMs, 50), pct(instantMs, 99), pct(instantMs, 100),
                dist(firstByteMs), dist(postMs), dist(openToFirstMs), dist(refFirstByteMs),
                bigLiveMs, dist(hitTotalMs), bigLiveMs / pct(hitTotalMs, 50));
        Files.writeString(results, json);
        System.out.print(json);
    }

    /** A local git repository whose build.sh runs {@code script}; its file:// URL. */
    static String repo(Path dir, String script) throws Exception {
        Files.createDirectories(dir);
        // A new tree every run: an earlier run's tree would be a task-cache hit, not a live build.
        Files.writeString(dir.resolve("build.sh"), "#!/usr/bin/env bash\n# run " + System.nanoTime() + "\nset -e\n" + script + "\n");
        dir.resolve("build.sh").toFile().setExecutable(true);
        run(dir, "git", "init", "-q", "-b", "main");
        run(dir, "git", "add", "build.sh");
        run(dir, "git", "-c", "user.email=bench@reprise.dev", "-c", "user.name=bench", "commit", "-q", "-m", "bench");
        return "file://" + dir.toAbsolutePath();
    }

    static void run(Path dir, String... command) throws Exception {
        Process p = new ProcessBuilder(command).directory(dir.toFile()).inheritIO().start();
        check(p.waitFor() == 0, String.join(" ", command) + " failed");
    }

    /** Requests the build; checks it is a hit or a miss as expected; its stream URL. */
    static String submit(String repo, boolean expectHit, String label) throws Exception {
        return submit(repo, "main", expectHit, label);
    }

    static String submit(String repo, String ref, boolean expectHit, String label) throws Exception {
        String body = "{\"repository\":\"" + repo + "\",\"ref\":\"" + ref + "\",\"tool\":\"custom\",\"command\":\"./build.sh\"}";
        HttpResponse<String> r = HTTP.send(HttpRequest.newBuilder(URI.create(gateway + "/api/v1/builds"))
                .header("Authorization", "Bearer " + token).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        check(r.statusCode() == 202, "POST /api/v1/builds answered " + r.statusCode() + ": " + r.body());
        check(r.body().contains("\"cached\":" + expectHit), (label == null ? "" : label + ": ") + "expected cached=" + expectHit
                + ": " + r.body());
        Matcher k = Pattern.compile("\"cacheKey\":\"([0-9a-f]{64})\"").matcher(r.body());
        check(k.find(), "no cacheKey in " + r.body());
        lastCacheKey = k.group(1);
        Matcher c = Pattern.compile("\"commit\":\"([0-9a-f]{40})\"").matcher(r.body());
        check(c.find(), "no commit in " + r.body());
        lastCommit = c.group(1);
        Matcher m = Pattern.compile("\"streamUrl\":\"([^\"]+)\"").matcher(r.body());
        check(m.find(), "no streamUrl in " + r.body());
        return m.group(1);
    }

    /** Waits until the stream's build is recorded: its recording answers on replay-service. */
    static void awaitRecorded(String streamUrl) throws Exception {
        Matcher m = Pattern.compile("^ws(s?)://([^/]+)/ws/builds/.*$").matcher(streamUrl);
        check(m.find(), "not a live stream URL: " + streamUrl);
        String key = lastCacheKey;
        URI messages = URI.create("http" + m.group(1) + "://" + m.group(2) + "/api/v1/recordings/" + key + "/messages");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (System.nanoTime() < deadline) {
            // replay-service's REST API is the gateway's; the bench asks it as the gateway does.
            HttpRequest ask = HttpRequest.newBuilder(messages).header("X-Reprise-Service", System.getProperty("reprise.service-token", "")).build();
            if (HTTP.send(ask, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                return;
            }
            Thread.sleep(200);
        }
        throw new IllegalStateException("no recording of " + key + " within 60 s");
    }

    /** A stream followed to its close: messages and when the first and last arrived. */
    static final class Stream implements WebSocket.Listener {
        final List<String> messages = Collections.synchronizedList(new ArrayList<>());
        /** When each message arrived, wall clock in epoch nanoseconds (comparable with times printed by a build). */
        final List<Long> arrivedEpochNanos = Collections.synchronizedList(new ArrayList<>());
        final StringBuilder partial = new StringBuilder();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();
        long openedNanos;
        long firstNanos;
        long lastNanos;
        long bytes;

        double spanMs() {
            return (lastNanos - firstNanos) / 1e6;
        }

        @Override
        public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                long now = System.nanoTime();
                if (messages.isEmpty()) {
                    firstNanos = now;
                }
                lastNanos = now;
                java.time.Instant wall = java.time.Instant.now();
                arrivedEpochNanos.add(wall.getEpochSecond() * 1_000_000_000L + wall.getNano());
                bytes += partial.toString().getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
                messages.add(partial.toString());
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

    static Stream follow(String url, String query) throws Exception {
        Stream stream = new Stream();
        stream.openedNanos = System.nanoTime();
        HTTP.newWebSocketBuilder().buildAsync(URI.create(withQuery(url, query)), stream).join();
        int code = stream.closed.get(5, TimeUnit.MINUTES);
        check(code == 1000, url + " closed with " + code);
        return stream;
    }

    static String dist(List<Double> values) {
        return String.format(Locale.ROOT, "{\"min\":%.1f,\"p50\":%.1f,\"p99\":%.1f,\"max\":%.1f,\"n\":%d}",
                pct(values, 0), pct(values, 50), pct(values, 99), pct(values, 100), values.size());
    }

    /** {@code url} plus {@code query} ("?speed=0" or ""), joined with & when the URL has a query (its ticket). */
    static String withQuery(String url, String query) {
        return query.isEmpty() ? url : url + (url.contains("?") ? "&" : "?") + query.substring(1);
    }

    static double pct(List<Double> values, double p) {
        List<Double> sorted = new ArrayList<>(values);
        Collections.sort(sorted);
        int i = (int) Math.ceil(p / 100 * sorted.size()) - 1;
        return sorted.get(Math.max(0, Math.min(sorted.size() - 1, i)));
    }

    static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalStateException(message);
        }
    }
}
