// 1,000 concurrent replay WebSockets on one replay-service (issue 12). Needs Reprise running
// (./reprise up); run with bench/run sockets.
//
// java bench/SocketsBench.java GATEWAY_URL TOKEN WORKDIR RESULTS_JSON REPLAY_PID
//
// A build printing 100 lines 50 ms apart runs live and is recorded. Then:
//  1. paced: SOCKETS clients (default 1000) replay it at speed 1 at once. Each message's delay is
//     how late it arrives against the recorded schedule (its event time minus the first event's,
//     from the socket's first message); the handshake time, and replay-service's resident memory
//     and heap with every socket open against before, per socket.
//  2. instant: the same number of clients replay it at speed 0 at once: messages and bytes per
//     second delivered across all sockets.
// Every socket must get every message, in order, and a normal close.
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.WebSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

public class SocketsBench {

    static final Pattern TIME = Pattern.compile("\"time\":\"([^\"]+)\"");
    static final HttpClient HTTP = HttpClient.newBuilder().executor(Executors.newFixedThreadPool(2, r -> {
        Thread t = new Thread(r, "sockets-bench");
        t.setDaemon(true);
        return t;
    })).build();

    public static void main(String[] args) throws Exception {
        String gateway = args[0];
        String token = args[1];
        Path work = Path.of(args[2]);
        Path results = Path.of(args[3]);
        long replayPid = Long.parseLong(args[4]);
        int sockets = Integer.parseInt(System.getenv().getOrDefault("SOCKETS", "1000"));

        // The recording: a new tree each run, so it is a real live build, not a task-cache hit.
        String repo = ReplayBench.repo(work.resolve("sockets-" + System.nanoTime()),
                "for i in $(seq 1 100); do echo \"compiling module $i of 100: the quick brown fox\"; sleep 0.05; done; echo BUILD SUCCESS");
        ReplayBench.gateway = gateway;
        ReplayBench.token = token;
        String liveUrl = ReplayBench.submit(repo, false, "live");
        ReplayBench.Stream live = ReplayBench.follow(liveUrl, "");
        ReplayBench.awaitRecorded(liveUrl);
        String replayUrl = ReplayBench.submit(repo, true, "hit");
        List<Long> schedule = new ArrayList<>();
        for (String m : live.messages) {
            Matcher t = TIME.matcher(m);
            ReplayBench.check(t.find(), "no time in " + m);
            Instant at = Instant.parse(t.group(1));
            schedule.add(at.getEpochSecond() * 1_000_000_000L + at.getNano());
        }
        int expected = live.messages.size();

        Memory idle = Memory.of(replayPid, replayUrl);
        Run paced = run(ReplayBench.withQuery(replayUrl, "?speed=1"), sockets, live.messages, replayPid);
        Run instant = run(ReplayBench.withQuery(replayUrl, "?speed=0"), sockets, live.messages, replayPid);

        // Lateness against the recorded schedule, anchored at the socket's most punctual message
        // (event times carry the live path's own jitter, so the first message is not always it).
        List<Double> delays = new ArrayList<>();
        List<Double> steadyDelays = new ArrayList<>();
        for (Client c : paced.clients) {
            if (!c.ok) {
                continue;
            }
            long shift = Long.MAX_VALUE;
            for (int i = 0; i < c.arrivals.size(); i++) {
                shift = Math.min(shift, c.arrivals.get(i) - schedule.get(i));
            }
            for (int i = 0; i < c.arrivals.size(); i++) {
                double delay = (c.arrivals.get(i) - schedule.get(i) - shift) / 1e6;
                delays.add(delay);
                if (c.arrivals.get(i) > paced.allOpenNanos) {
                    steadyDelays.add(delay);
                }
            }
        }
        double pacedSeconds = paced.spanNanos / 1e9;
        double instantSeconds = instant.spanNanos / 1e9;
        String json = String.format(Locale.ROOT, """
                {"date":"%s","failures":%s,"sockets":%d,"messages_per_replay":%d,"bytes_per_replay":%d,"live_span_ms":%.1f,
                 "paced":{"completed":%d,"failed":%d,"handshake_ms":%s,"message_delay_ms":%s,"message_delay_once_all_open_ms":%s,"all_open_after_s":%.2f,"span_s":%.2f,
                  "messages_per_s":%.0f,"replay_rss_idle_mb":%.1f,"replay_rss_peak_mb":%.1f,"rss_per_socket_kb":%.1f,
                  "replay_heap_idle_mb":%.1f,"replay_heap_all_open_mb":%.1f,"heap_per_socket_kb":%.1f},
                 "instant":{"completed":%d,"failed":%d,"handshake_ms":%s,"replay_ms":%s,"span_s":%.2f,
                  "messages_per_s":%.0f,"mb_per_s":%.1f,"replay_rss_peak_mb":%.1f}}
                """, Instant.now(), failures(paced, instant), sockets, expected, live.bytes, live.spanMs(),
                paced.completed(), sockets - paced.completed(), ReplayBench.dist(paced.handshakes()),
                ReplayBench.dist(delays), ReplayBench.dist(steadyDelays), (paced.allOpenNanos - paced.startNanos) / 1e9, pacedSeconds, paced.messages.get() / pacedSeconds,
                idle.rssKb / 1024.0, paced.peak.rssKb / 1024.0, (paced.peak.rssKb - idle.rssKb) / (double) sockets,
                idle.heapBytes / 1048576.0, paced.allOpen.heapBytes / 1048576.0,
                (paced.allOpen.heapBytes - idle.heapBytes) / 1024.0 / sockets,
                instant.completed(), sockets - instant.completed(), ReplayBench.dist(instant.handshakes()),
                ReplayBench.dist(instant.replayMs()), instantSeconds, instant.messages.get() / instantSeconds,
                instant.bytes.get() / 1048576.0 / instantSeconds, instant.peak.rssKb / 1024.0);
        Files.writeString(results, json);
        System.out.print(json);
        ReplayBench.check(paced.completed() == sockets && instant.completed() == sockets,
                "not every socket got the whole recording (see 'failed')");
        System.exit(0);
    }

    /** Opens {@code n} sockets (at most 64 handshakes at a time) and waits until every one closed. */
    static Run run(String url, int n, List<String> expected, long pid) throws Exception {
        Run run = new Run();
        Semaphore handshakes = new Semaphore(64);
        long start = System.nanoTime();
        run.startNanos = start;
        List<CompletableFuture<?>> opened = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Client c = new Client(run);
            run.clients.add(c);
            handshakes.acquire();
            c.started = System.nanoTime();
            opened.add(HTTP.newWebSocketBuilder().connectTimeout(java.time.Duration.ofSeconds(60))
                    .buildAsync(URI.create(url), c)
                    .whenComplete((ws, e) -> {
                        handshakes.release();
                        if (e != null) {
                            c.closed.completeExceptionally(e);
                        }
                    }));
        }
        // Sample the service while sockets are open: its peak, and its state once all are open.
        CompletableFuture<Void> allOpened = CompletableFuture.allOf(opened.toArray(CompletableFuture[]::new))
                .exceptionally(e -> null);
        CompletableFuture<Void> allClosed = CompletableFuture.allOf(run.clients.stream().map(c -> c.closed
                .exceptionally(e -> -1)).toArray(CompletableFuture[]::new));
        boolean sampledOpen = false;
        while (!allClosed.isDone()) {
            Memory m = Memory.of(pid, null);
            if (run.peak == null || m.rssKb > run.peak.rssKb) {
                run.peak = m;
            }
            if (!sampledOpen && allOpened.isDone()) {
                run.allOpenNanos = System.nanoTime();
                run.allOpen = Memory.of(pid, url);
                sampledOpen = true;
            }
            Thread.sleep(200);
            ReplayBench.check(System.nanoTime() - start < TimeUnit.MINUTES.toNanos(5), "sockets still open after 5 minutes");
        }
        if (run.allOpen == null) {
            run.allOpen = Memory.of(pid, url);
        }
        run.spanNanos = run.clients.stream().mapToLong(c -> c.lastNanos).max().orElse(start) - start;
        for (Client c : run.clients) {
            if (!c.closed.isDone()) {
                c.failure = "not closed";
            } else if (c.closed.isCompletedExceptionally()) {
                c.failure = "error: " + c.closed.handle((v, e) -> String.valueOf(e)).join();
            } else if (c.closed.join() != 1000) {
                c.failure = "closed with " + c.closed.join() + " " + c.closeReason;
            } else if (!c.received.equals(expected)) {
                c.failure = "got " + c.received.size() + " of " + expected.size() + " messages"
                        + (c.received.size() == expected.size() ? " (different)" : "");
            }
            c.ok = c.failure == null;
        }
        return run;
    }

    static final class Run {
        final List<Client> clients = new ArrayList<>();
        final AtomicLong messages = new AtomicLong();
        final AtomicLong bytes = new AtomicLong();
        Memory peak;
        Memory allOpen;
        long spanNanos;
        long startNanos;
        long allOpenNanos = Long.MAX_VALUE;

        int completed() {
            return (int) clients.stream().filter(c -> c.ok).count();
        }

        List<Double> handshakes() {
            return clients.stream().filter(c -> c.openedNanos > 0).map(c -> (c.openedNanos - c.started) / 1e6).toList();
        }

        List<Double> replayMs() {
            return clients.stream().filter(c -> c.ok).map(c -> (c.lastNanos - c.openedNanos) / 1e6).toList();
        }
    }

    static final class Client implements WebSocket.Listener {
        final Run run;
        final List<String> received = new ArrayList<>();
        final List<Long> arrivals = new ArrayList<>();
        final StringBuilder partial = new StringBuilder();
        final CompletableFuture<Integer> closed = new CompletableFuture<>();
        long started;
        volatile long openedNanos;
        volatile long lastNanos;
        boolean ok;
        String failure;
        String closeReason;

        Client(Run run) {
            this.run = run;
        }

        @Override
        public void onOpen(WebSocket socket) {
            openedNanos = System.nanoTime();
            socket.request(1);
        }

        @Override
        public CompletionStage<?> onText(WebSocket socket, CharSequence data, boolean last) {
            partial.append(data);
            if (last) {
                long now = System.nanoTime();
                String message = partial.toString();
                partial.setLength(0);
                synchronized (this) {
                    received.add(message);
                    arrivals.add(now);
                }
                lastNanos = now;
                run.messages.incrementAndGet();
                run.bytes.addAndGet(message.getBytes(StandardCharsets.UTF_8).length);
            }
            socket.request(1);
            return null;
        }

        @Override
        public CompletionStage<?> onClose(WebSocket socket, int code, String reason) {
            closeReason = reason;
            closed.complete(code);
            return null;
        }

        @Override
        public void onError(WebSocket socket, Throwable error) {
            closed.completeExceptionally(error);
        }
    }

    /** Why sockets failed, counted by reason (a JSON object; empty when none did). */
    static String failures(Run... runs) {
        java.util.Map<String, Long> counts = new java.util.TreeMap<>();
        for (Run run : runs) {
            for (Client c : run.clients) {
                if (c.failure != null) {
                    counts.merge(c.failure.replaceAll("[\"\\\\]", "'"), 1L, Long::sum);
                }
            }
        }
        StringBuilder out = new StringBuilder("{");
        counts.forEach((k, v) -> out.append(out.length() > 1 ? "," : "").append('"').append(k).append("\":").append(v));
        return out.append('}').toString();
    }

    /** replay-service's resident set (from /proc) and, when asked, its heap in use (from /q/metrics). */
    record Memory(long rssKb, long heapBytes) {
        static Memory of(long pid, String socketUrl) throws Exception {
            long rss = 0;
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmRSS:")) {
                    rss = Long.parseLong(line.replaceAll("\\D", ""));
                }
            }
            long heap = 0;
            if (socketUrl != null) {
                // Metrics are on the management port: the HTTP port + 1000 as ./reprise up starts the services.
                URI socket = URI.create(socketUrl);
                String metrics = "http://" + socket.getHost() + ":" + (socket.getPort() + 1000) + "/q/metrics";
                String body = HTTP.send(HttpRequest.newBuilder(URI.create(metrics)).build(), HttpResponse.BodyHandlers.ofString()).body();
                Matcher m = Pattern.compile("(?m)^jvm_memory_used_bytes\\{area=\"heap\"[^}]*} ([0-9.E+]+)").matcher(body);
                while (m.find()) {
                    heap += (long) Double.parseDouble(m.group(1));
                }
            }
            return new Memory(rss, heap);
        }
    }
}
