import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * CAS throughput on the Turborepo protocol ({@code /v8/artifacts/{hash}}), side by side with the
 * peer on its own protocol (turborepo-remote-cache, Node, local disk) and with nginx serving the
 * same files from disk, all on the same machine.
 * GET: wrk (HTTP/1.1 keep-alive), the same connections and duration for every server. HEAD:
 * sequential requests on one connection (latency percentiles).
 * PUT: every request carries new content (so the CAS really stores it, through S3), sent by the
 * JDK HttpClient with a fixed concurrency; the peer and nginx (WebDAV PUT) store the same bodies.
 * Afterwards: how long Reprise's acknowledged saves took to reach the index (write-behind), from
 * its metrics.
 *
 * Usage: java bench/ArtifactBench.java ARTIFACT_URL TOKEN NGINX_URL WORK_DIR RESULT_JSON [PEER_URL PEER_TOKEN]
 * (bench/run artifacts starts nginx and the peer and calls this).
 */
public class ArtifactBench {

    record Size(String name, int bytes, int getConnections, int putRequests, int putConcurrency) {
    }

    static final List<Size> SIZES = List.of(
            new Size("4KB", 4 * 1024, 16, 2000, 8),
            new Size("1MB", 1024 * 1024, 8, 200, 4),
            new Size("100MB", 100 * 1024 * 1024, 2, 6, 2));

    static final int SECONDS = Integer.getInteger("bench.seconds", 10);

    @SuppressWarnings("unchecked")
    public static void main(String[] args) throws Exception {
        String artifact = args[0];
        String token = args[1];
        String nginx = args[2];
        Path work = Path.of(args[3]);
        Path result = Path.of(args[4]);
        String peer = args.length > 6 ? args[5] : null;
        String peerToken = args.length > 6 ? args[6] : null;
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        String auth = "Authorization: Bearer " + token;

        Map<String, Object> rows = new LinkedHashMap<>();
        for (Size size : SIZES) {
            byte[] content = new byte[size.bytes()];
            new Random(size.bytes()).nextBytes(content);
            Files.createDirectories(work.resolve("root/get"));
            Files.write(work.resolve("root/get/" + size.name()), content);
            String casPath = "/v8/artifacts/" + hex("get" + size.name() + System.nanoTime()) + "?teamId=bench";
            HttpResponse<String> put = http.send(HttpRequest.newBuilder(URI.create(artifact + casPath)).header("Authorization", "Bearer " + token)
                    .PUT(HttpRequest.BodyPublishers.ofByteArray(content)).build(), HttpResponse.BodyHandlers.ofString());
            if (put.statusCode() / 100 != 2) {
                throw new IllegalStateException("PUT " + casPath + " answered " + put.statusCode() + ": " + put.body());
            }
            String peerPath = "/v8/artifacts/" + hex("get" + size.name()) + "?teamId=bench";
            if (peer != null) {
                HttpResponse<String> peerPut = http.send(HttpRequest.newBuilder(URI.create(peer + peerPath))
                        .header("Authorization", "Bearer " + peerToken).header("Content-Type", "application/octet-stream")
                        .PUT(HttpRequest.BodyPublishers.ofByteArray(content)).build(), HttpResponse.BodyHandlers.ofString());
                if (peerPut.statusCode() / 100 != 2) {
                    throw new IllegalStateException("peer PUT answered " + peerPut.statusCode() + ": " + peerPut.body());
                }
            }
            // Warm every server (the CAS fills its verified local copy on the first GET).
            wrk(artifact + casPath, auth, 1, 2);
            wrk(nginx + "/get/" + size.name(), auth, 1, 2);
            if (peer != null) {
                wrk(peer + peerPath, "Authorization: Bearer " + peerToken, 1, 2);
            }

            Map<String, Object> row = new LinkedHashMap<>();
            row.put("get_reprise", wrk(artifact + casPath, auth, size.getConnections(), SECONDS));
            row.put("get_nginx", wrk(nginx + "/get/" + size.name(), auth, size.getConnections(), SECONDS));
            row.put("head_reprise", heads(http, artifact + casPath, token));
            row.put("head_nginx", heads(http, nginx + "/get/" + size.name(), token));
            row.put("put_reprise", puts(http, artifact + "/v8/artifacts/", "?teamId=bench", token, content, size));
            // Write-behind: the PUTs are acknowledged; wait until they are all in S3 and the index (how long that
            // takes is reported), so the next measurements do not share the cores with Reprise's writer.
            long drainStart = System.nanoTime();
            while (staged(http, artifact) > 0 && System.nanoTime() - drainStart < 300_000_000_000L) {
                Thread.sleep(50);
            }
            ((Map<String, Object>) row.get("put_reprise")).put("stored_all_after_ms", round((System.nanoTime() - drainStart) / 1e6));
            row.put("put_nginx", puts(http, nginx + "/put/" + size.name() + "-" + System.nanoTime() + "-", "", token, content, size));
            if (peer != null) {
                row.put("get_peer", wrk(peer + peerPath, "Authorization: Bearer " + peerToken, size.getConnections(), SECONDS));
                row.put("head_peer", heads(http, peer + peerPath, peerToken));
                row.put("put_peer", puts(http, peer + "/v8/artifacts/", "?teamId=bench", peerToken, content, size));
            }
            rows.put(size.name(), row);
            System.out.println(size.name() + ": " + row);
        }

        // How long acknowledged saves took to be committed to the index (what other instances wait for).
        String metrics = http.send(HttpRequest.newBuilder(management(artifact)).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        Map<String, Object> visible = new LinkedHashMap<>();
        visible.put("p50_ms", round(number(metrics, "reprise_artifact_staged_delay_seconds\\{[^}]*quantile=\"0.5\"[^}]*\\} ([0-9.Ee-]+)") * 1000));
        visible.put("p99_ms", round(number(metrics, "reprise_artifact_staged_delay_seconds\\{[^}]*quantile=\"0.99\"[^}]*\\} ([0-9.Ee-]+)") * 1000));
        visible.put("max_ms", round(number(metrics, "reprise_artifact_staged_delay_seconds_max ([0-9.Ee-]+)") * 1000));
        visible.put("saves", number(metrics, "reprise_artifact_staged_delay_seconds_count ([0-9.Ee-]+)"));
        rows.put("write_behind_visible", visible);
        System.out.println("acknowledged save -> in the index: " + visible);

        // Hide what the benchmark stored; the collector frees it later.
        http.send(HttpRequest.newBuilder(URI.create(artifact + "/api/v1/artifacts/entries?protocol=turbo&prefix=teams/bench/"))
                .header("Authorization", "Bearer " + token).DELETE().build(), HttpResponse.BodyHandlers.ofString());

        StringBuilder json = new StringBuilder("{\n  \"date\": \"" + Instant.now() + "\",\n  \"seconds\": " + SECONDS + ",\n  \"sizes\": {\n");
        int i = 0;
        for (var entry : rows.entrySet()) {
            json.append("    \"").append(entry.getKey()).append("\": ").append(toJson(entry.getValue())).append(++i < rows.size() ? ",\n" : "\n");
        }
        json.append("  }\n}\n");
        Files.writeString(result, json.toString());
        printTable(rows);
    }

    /** Runs wrk and reads requests/s, MB/s and latency percentiles from its report. */
    static Map<String, Object> wrk(String url, String header, int connections, int seconds) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("wrk", "-t", String.valueOf(Math.min(2, connections)), "-c", String.valueOf(connections),
                "-d", seconds + "s", "--latency", "-H", header, url));
        Process process = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        process.waitFor(seconds + 60L, TimeUnit.SECONDS);
        if (out.contains("Non-2xx")) {
            throw new IllegalStateException("wrk saw errors for " + url + ":\n" + out);
        }
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("requests_per_s", number(out, "Requests/sec:\\s+([0-9.]+)"));
        r.put("mb_per_s", transfer(out));
        r.put("p50_ms", latency(out, "50%"));
        r.put("p99_ms", latency(out, "99%"));
        r.put("connections", connections);
        return r;
    }

    /** PUTs {@code size.putRequests()} distinct bodies (content with a unique 8-byte prefix). */
    static Map<String, Object> puts(HttpClient http, String urlPrefix, String query, String token, byte[] content, Size size)
            throws Exception {
        long run = System.nanoTime();
        Map<String, Object> r = timed(size.putConcurrency(), size.putRequests(), n -> {
            byte[] body = content.clone();
            ByteBuffer.wrap(body).putLong(System.nanoTime() ^ ((long) n << 40));
            return HttpRequest.newBuilder(URI.create(urlPrefix + hex(size.name() + run + "-" + n) + query))
                    .header("Authorization", "Bearer " + token).header("Content-Type", "application/octet-stream")
                    .timeout(Duration.ofMinutes(2)).PUT(HttpRequest.BodyPublishers.ofByteArray(body)).build();
        }, http);
        r.put("mb_per_s", round((Double) r.get("requests_per_s") * size.bytes() / (1 << 20)));
        return r;
    }

    /**
     * HEAD latency on one keep-alive connection, one request at a time (wrk cannot do HEAD: it
     * waits for a body that never comes): 500 warm-up requests, then 5,000 timed.
     */
    static Map<String, Object> heads(HttpClient http, String url, String token) throws Exception {
        java.util.function.IntFunction<HttpRequest> head = n -> HttpRequest.newBuilder(URI.create(url)).header("Authorization", "Bearer " + token)
                .method("HEAD", HttpRequest.BodyPublishers.noBody()).build();
        timed(1, 500, head, http);
        return timed(1, 5000, head, http);
    }

    /** Sends {@code requests} requests with {@code concurrency} senders; throughput and latency percentiles. */
    static Map<String, Object> timed(int concurrency, int requests, java.util.function.IntFunction<HttpRequest> request, HttpClient http)
            throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(concurrency, runnable -> {
            Thread thread = new Thread(runnable);
            thread.setDaemon(true);
            return thread;
        });
        AtomicInteger next = new AtomicInteger();
        long[] latencies = new long[requests];
        long start = System.nanoTime();
        List<Future<?>> workers = new ArrayList<>();
        for (int w = 0; w < concurrency; w++) {
            workers.add(pool.submit(() -> {
                for (int n; (n = next.getAndIncrement()) < requests; ) {
                    HttpRequest r = request.apply(n);
                    long t0 = System.nanoTime();
                    HttpResponse<String> response = http.send(r, HttpResponse.BodyHandlers.ofString());
                    latencies[n] = System.nanoTime() - t0;
                    if (response.statusCode() / 100 != 2) {
                        throw new IllegalStateException(r.method() + " " + r.uri() + " answered " + response.statusCode() + ": " + response.body());
                    }
                }
                return null;
            }));
        }
        for (Future<?> worker : workers) {
            worker.get();
        }
        double seconds = (System.nanoTime() - start) / 1e9;
        pool.shutdown();
        Arrays.sort(latencies);
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("requests_per_s", round(requests / seconds));
        r.put("p50_ms", round(latencies[latencies.length / 2] / 1e6));
        r.put("p99_ms", round(latencies[Math.min(latencies.length - 1, (int) Math.ceil(latencies.length * 0.99) - 1)] / 1e6));
        r.put("concurrency", concurrency);
        r.put("requests", requests);
        return r;
    }

    /** Saves acknowledged by Reprise and not yet stored in S3 and the index. */
    static double staged(HttpClient http, String artifact) throws Exception {
        String metrics = http.send(HttpRequest.newBuilder(management(artifact)).build(), HttpResponse.BodyHandlers.ofString()).body();
        return number(metrics, "\nreprise_artifact_staged_saves ([0-9.Ee+-]+)");
    }

    /** The metrics endpoint: on the management port, the service's port + 1000. */
    static URI management(String artifact) {
        URI service = URI.create(artifact);
        return URI.create(service.getScheme() + "://" + service.getHost() + ":" + (service.getPort() + 1000) + "/q/metrics");
    }

    /** A hex name for a key (Turborepo hashes are hex), unique per {@code seed}. */
    static String hex(String seed) {
        try {
            return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                    .digest(seed.getBytes(StandardCharsets.UTF_8))).substring(0, 32);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    static double number(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        return m.find() ? Double.parseDouble(m.group(1)) : Double.NaN;
    }

    static double transfer(String text) {
        Matcher m = Pattern.compile("Transfer/sec:\\s+([0-9.]+)([KMG]?B)").matcher(text);
        if (!m.find()) {
            return Double.NaN;
        }
        double value = Double.parseDouble(m.group(1));
        return round(switch (m.group(2)) {
            case "KB" -> value / 1024;
            case "GB" -> value * 1024;
            case "B" -> value / (1 << 20);
            default -> value;
        });
    }

    static double latency(String text, String percentile) {
        Matcher m = Pattern.compile(Pattern.quote(percentile) + "\\s+([0-9.]+)(us|ms|s)").matcher(text);
        if (!m.find()) {
            return Double.NaN;
        }
        double value = Double.parseDouble(m.group(1));
        return round(switch (m.group(2)) {
            case "us" -> value / 1000;
            case "s" -> value * 1000;
            default -> value;
        });
    }

    static double round(double value) {
        return Math.round(value * 100) / 100.0;
    }

    @SuppressWarnings("unchecked")
    static String toJson(Object value) {
        if (value instanceof Map<?, ?> map) {
            StringBuilder b = new StringBuilder("{");
            int i = 0;
            for (var e : ((Map<String, Object>) map).entrySet()) {
                b.append(i++ > 0 ? ", " : "").append('"').append(e.getKey()).append("\": ").append(toJson(e.getValue()));
            }
            return b.append('}').toString();
        }
        if (value instanceof Double d && (d.isNaN() || d.isInfinite())) {
            return "null";
        }
        return String.valueOf(value);
    }

    @SuppressWarnings("unchecked")
    static void printTable(Map<String, Object> rows) {
        System.out.println();
        System.out.println("| size | op | Reprise | turborepo-remote-cache | nginx | Reprise / peer | Reprise / nginx |");
        System.out.println("|---|---|---|---|---|---|---|");
        for (var entry : rows.entrySet()) {
            if (!(entry.getValue() instanceof Map<?, ?> m) || !m.containsKey("get_reprise")) {
                continue;
            }
            Map<String, Object> row = (Map<String, Object>) entry.getValue();
            for (String op : List.of("get", "head", "put")) {
                Map<String, Object> r = (Map<String, Object>) row.get(op + "_reprise");
                Map<String, Object> p = (Map<String, Object>) row.get(op + "_peer");
                Map<String, Object> n = (Map<String, Object>) row.get(op + "_nginx");
                String metric = op.equals("head") ? "requests_per_s" : "mb_per_s";
                String unit = op.equals("head") ? " req/s" : " MB/s";
                System.out.printf(Locale.ROOT, "| %s | %s | %s | %s | %s | %s | %.2f |%n", entry.getKey(), op.toUpperCase(Locale.ROOT),
                        cell(r, metric, unit), p == null ? "—" : cell(p, metric, unit), cell(n, metric, unit),
                        p == null ? "—" : String.format(Locale.ROOT, "%.2f", (Double) r.get(metric) / (Double) p.get(metric)),
                        (Double) r.get(metric) / (Double) n.get(metric));
            }
        }
    }

    static String cell(Map<String, Object> r, String metric, String unit) {
        return r.get(metric) + unit + ", p50 " + r.get("p50_ms") + " ms, p99 " + r.get("p99_ms") + " ms";
    }
}
