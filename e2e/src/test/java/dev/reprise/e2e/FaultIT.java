package dev.reprise.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reprise.testing.TestGitRepo;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.parallel.Isolated;

/**
 * Issue 11's fault suite, against the running services and the real local infrastructure: while
 * builds run, each fault in turn (kill -9 of each service, a Kafka broker restart, Redis stopped,
 * S3 unavailable, a PostgreSQL restart), then the fault lifted as an operator or Kubernetes would
 * (the killed process started again; nothing else touched). After each: no build stuck, every
 * recording equal to the build's stream as published and holding each event once, no artifact or
 * recording read that answered 200 with other bytes than were stored, every acknowledged upload
 * still there, and every service ready again on its own. Prints the table and writes it to
 * {@code e2e/target/fault-table.md}.
 */
@Isolated
class FaultIT {

    private static final int LINES = 20;
    private static final int BEFORE = 2;
    private static final int DURING = 2;
    private static final Duration HOLD = Duration.ofSeconds(3);
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(90);
    private static final Set<String> TERMINAL = Set.of("SUCCESS", "FAILURE", "TIMEOUT", "CANCELLED", "INTERRUPTED");
    private static final String COMPLETED = "dev.reprise.build.completed.v1";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private static final List<Row> TABLE = new ArrayList<>();

    /** A recording made before any fault: every later read of it must answer these bytes or an error. */
    private static String baselineKey;
    private static String baselineMessages;

    /** One line of the table. */
    record Row(String fault, int run, int completed, int interrupted, int refused, int stuck, int eventsLost, int duplicated,
            int corruptReads, int uploadsLost, Duration recovery) {
    }

    /** A fault: what breaks, and what an operator (or Kubernetes) does about it. Nothing else is touched. */
    record Fault(String name, Step inject, Step lift) {
    }

    @FunctionalInterface
    interface Step {
        void run() throws Exception;
    }

    @BeforeAll
    static void baseline() throws Exception {
        awaitAllReady();
        TestGitRepo repo = TestGitRepo.withBuildScript("echo baseline " + UUID.randomUUID());
        Builds.Recorded recorded = Builds.recorded(repo.url(), "./build.sh", Map.of());
        baselineKey = recorded.cacheKey();
        baselineMessages = String.join("\n", recorded.messages());
    }

    @AfterAll
    static void printTable() throws IOException {
        StringBuilder table = new StringBuilder("| fault | builds run | completed | interrupted | refused during fault | stuck"
                + " | events lost | events duplicated | corrupt reads | uploads lost | recovery time |\n"
                + "|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Row r : TABLE) {
            table.append("| ").append(r.fault()).append(" | ").append(r.run()).append(" | ").append(r.completed()).append(" | ")
                    .append(r.interrupted()).append(" | ").append(r.refused()).append(" | ").append(r.stuck()).append(" | ")
                    .append(r.eventsLost()).append(" | ").append(r.duplicated()).append(" | ").append(r.corruptReads()).append(" | ")
                    .append(r.uploadsLost()).append(" | ").append(String.format("%.1f s", r.recovery().toMillis() / 1000.0))
                    .append(" |\n");
        }
        System.out.println("fault suite:\n" + table);
        Path target = Services.ROOT.resolve("e2e/target");
        Files.createDirectories(target);
        Files.writeString(target.resolve("fault-table.md"), table.toString(), StandardCharsets.UTF_8);
    }

    @TestFactory
    Stream<DynamicTest> everyFaultIsSurvivedWithNothingLostStuckOrCorrupt() {
        List<Fault> faults = new ArrayList<>();
        for (String service : List.of("gateway", "build-runner", "replay", "artifact", "image-cache")) {
            faults.add(new Fault("kill -9 " + service, () -> killService(service), () -> startService(service)));
        }
        faults.add(new Fault("restart Kafka", () -> infra("down", "kafka"), () -> infra("up", "kafka")));
        faults.add(new Fault("stop Redis", FaultIT::stopRedis, FaultIT::startRedis));
        faults.add(new Fault("S3 unavailable", () -> infra("down", "s3"), () -> infra("up", "s3")));
        faults.add(new Fault("restart PostgreSQL", FaultIT::stopPostgres, FaultIT::startPostgres));
        return faults.stream().map(f -> DynamicTest.dynamicTest(f.name(), () -> survive(f)));
    }

    private static void survive(Fault fault) throws Exception {
        awaitAllReady();
        TestGitRepo repo = TestGitRepo.withBuildScript("# " + fault.name() + " " + UUID.randomUUID() + "\n"
                + "for i in $(seq 1 " + LINES + "); do echo \"build $1 line $i\"; sleep 0.1; done");
        Uploads uploads = new Uploads();
        try (KafkaConsumer<String, String> topic = Builds.events()) {
            Map<String, List<String>> published = new LinkedHashMap<>();
            List<JsonNode> builds = new ArrayList<>();
            for (int n = 0; n < BEFORE; n++) {
                builds.add(Builds.live(repo.url(), "./build.sh " + n, Map.of()));
            }
            uploads.putSome(3);
            String first = builds.get(0).path("buildId").asText();
            await().atMost(Builds.BUILD_TIMEOUT).until(() -> poll(topic, published).getOrDefault(first, List.of()).size() >= 6);

            fault.inject().run();
            long deadline = System.nanoTime() + HOLD.toNanos();
            // Clients keep coming during the fault; their requests may wait for it to pass.
            List<CompletableFuture<Services.Answer>> during = new ArrayList<>();
            for (int n = BEFORE; n < BEFORE + DURING; n++) {
                String body = Builds.body(repo.url(), "./build.sh " + n, Map.of());
                during.add(CompletableFuture.supplyAsync(() -> post(body)));
            }
            CompletableFuture<Void> reads = CompletableFuture.runAsync(() -> {
                try {
                    uploads.putSome(2);
                    uploads.readAll();
                    readBaseline(uploads);
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
            while (System.nanoTime() < deadline) {
                poll(topic, published);
            }

            long lifted = System.nanoTime();
            fault.lift().run();
            awaitAllReady();
            Duration recovery = Duration.ofNanos(System.nanoTime() - lifted);
            reads.get(2, TimeUnit.MINUTES);
            int refused = 0;
            for (CompletableFuture<Services.Answer> request : during) {
                Services.Answer answer = request.get(2, TimeUnit.MINUTES);
                if (answer.status() == 202) {
                    builds.add(answer.body());
                } else {
                    assertThat(answer.status()).as("a build refused during " + fault.name() + " is refused with a 503 or not"
                            + " answered at all, never a 500: " + answer.body()).isIn(0, 503);
                    refused++;
                }
            }

            builds.add(Builds.live(repo.url(), "./build.sh after", Map.of()));
            Map<String, String> status = new LinkedHashMap<>();
            for (JsonNode build : builds) {
                String id = build.path("buildId").asText();
                status.put(id, awaitTerminal(id));
            }
            await().atMost(Builds.BUILD_TIMEOUT).until(() -> {
                poll(topic, published);
                return status.keySet().stream().allMatch(id -> published.getOrDefault(id, List.of()).stream().anyMatch(e -> e.contains(COMPLETED)));
            });

            Check check = new Check();
            for (JsonNode build : builds) {
                String id = build.path("buildId").asText();
                check.build(build, status.get(id), published.getOrDefault(id, List.of()));
            }
            uploads.readAll();
            readBaseline(uploads);
            int lost = uploads.lost();

            int completed = (int) status.values().stream().filter("SUCCESS"::equals).count();
            int interrupted = (int) status.values().stream().filter("INTERRUPTED"::equals).count();
            int stuck = (int) status.values().stream().filter(s -> !TERMINAL.contains(s)).count();
            Row row = new Row(fault.name(), builds.size(), completed, interrupted, refused, stuck, check.lost, check.duplicated,
                    uploads.corrupt, lost, recovery);
            TABLE.add(row);

            assertThat(check.problems).as(fault.name() + ": recordings against the published streams").isEmpty();
            assertThat(stuck).as(fault.name() + ": builds stuck " + status).isZero();
            assertThat(uploads.corrupt).as(fault.name() + ": corrupt reads " + uploads.problems).isZero();
            assertThat(lost).as(fault.name() + ": acknowledged uploads lost " + uploads.problems).isZero();
            assertThat(uploads.serverErrors).as(fault.name() + ": artifact answers other than 503 while a store is away").isEmpty();
            assertThat(status.get(builds.get(builds.size() - 1).path("buildId").asText()))
                    .as(fault.name() + ": a build requested after recovery succeeds").isEqualTo("SUCCESS");
            // Only a runner lost mid-build interrupts builds; every other fault delays them at most.
            Map<String, String> notSucceeded = status.entrySet().stream().filter(e -> !e.getValue().equals("SUCCESS"))
                    .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
            if (fault.name().equals("kill -9 build-runner")) {
                assertThat(notSucceeded.values()).as(fault.name()).containsOnly("INTERRUPTED");
            } else {
                Map<String, String> reasons = new LinkedHashMap<>();
                for (String id : notSucceeded.keySet()) {
                    reasons.put(id, Services.getAuthorized("gateway", "/api/v1/builds/" + id).body().toString());
                }
                assertThat(notSucceeded).as(fault.name() + ": builds that did not succeed " + reasons).isEmpty();
            }
        }
    }

    /** Compares each finished build's recording with its stream as published on Kafka. */
    private static final class Check {
        int lost;
        int duplicated;
        final List<String> problems = new ArrayList<>();

        void build(JsonNode build, String status, List<String> published) throws Exception {
            String id = build.path("buildId").asText();
            // The stream as published, once per sequence number (a producer retry may publish twice).
            TreeMap<Long, String> bySeq = new TreeMap<>();
            published.forEach(e -> bySeq.putIfAbsent(seq(e), e));
            for (long s = 1; s <= bySeq.lastKey(); s++) {
                if (!bySeq.containsKey(s)) {
                    lost++;
                    problems.add(id + ": seq " + s + " never published");
                }
            }
            if (status.equals("SUCCESS")) {
                String output = bySeq.values().stream().filter(e -> e.contains("dev.reprise.build.output.v1"))
                        .map(e -> json(e).path("data").path("chunk").asText()).collect(Collectors.joining());
                for (int i = 1; i <= LINES; i++) {
                    if (!output.contains("line " + i + "\n")) {
                        lost++;
                        problems.add(id + ": output line " + i + " missing");
                    }
                }
            }
            if (!status.equals("SUCCESS") && !status.equals("FAILURE")) {
                // Never cached: a hit must not replay a build the runner did not finish.
                Services.Answer entry = Services.get("replay", "/api/v1/recordings/" + build.path("cacheKey").asText());
                if (entry.status() == 200 && id.equals(entry.body().path("buildId").asText())) {
                    problems.add(id + ": a " + status + " build was recorded as the key's entry");
                }
                return;
            }
            List<String> recorded = Builds.awaitRecording(build.path("cacheKey").asText(), id);
            List<Long> seqs = recorded.stream().map(FaultIT::seq).toList();
            duplicated += seqs.size() - (int) seqs.stream().distinct().count();
            List<String> expected = List.copyOf(bySeq.values());
            if (!recorded.equals(expected)) {
                int missing = (int) expected.stream().filter(e -> !recorded.contains(e)).count();
                lost += missing;
                problems.add(id + ": recording differs from the published stream (" + recorded.size() + " recorded, "
                        + expected.size() + " published, " + missing + " missing)");
            }
        }
    }

    /** Blobs put to the artifact service's Bazel CAS: which were acknowledged, and what reading them back gave. */
    private static final class Uploads {
        final Map<String, byte[]> acknowledged = new LinkedHashMap<>();
        final List<String> problems = new ArrayList<>();
        final List<String> serverErrors = new ArrayList<>();
        final Random random = new Random();
        int corrupt;

        void putSome(int count) throws Exception {
            for (int i = 0; i < count; i++) {
                byte[] blob = new byte[16 * 1024 + random.nextInt(64 * 1024)];
                random.nextBytes(blob);
                String digest = sha256(blob);
                int status = send(HttpRequest.newBuilder(cas(digest)).PUT(HttpRequest.BodyPublishers.ofByteArray(blob))).status;
                if (status / 100 == 2) {
                    acknowledged.put(digest, blob);
                } else if (status / 100 == 5 && status != 503) {
                    serverErrors.add("PUT " + digest + " answered " + status);
                }
            }
        }

        /** Reads every acknowledged blob; an answer of 200 must carry exactly the bytes stored. */
        void readAll() throws Exception {
            for (Map.Entry<String, byte[]> blob : acknowledged.entrySet()) {
                Answer answer = send(HttpRequest.newBuilder(cas(blob.getKey())).GET());
                if (answer.status == 200 && !sha256(answer.body).equals(blob.getKey())) {
                    corrupt++;
                    problems.add("GET " + blob.getKey() + " answered 200 with other bytes (" + answer.body.length + " bytes)");
                } else if (answer.status / 100 == 5 && answer.status != 503) {
                    serverErrors.add("GET " + blob.getKey() + " answered " + answer.status);
                }
            }
        }

        /** After recovery: acknowledged blobs that are gone. */
        int lost() throws Exception {
            int lost = 0;
            for (String digest : acknowledged.keySet()) {
                int status = send(HttpRequest.newBuilder(cas(digest)).GET()).status;
                if (status != 200) {
                    lost++;
                    problems.add("GET " + digest + " after recovery answered " + status);
                }
            }
            return lost;
        }

        private static URI cas(String digest) {
            return URI.create("http://127.0.0.1:" + Services.PORTS.get("artifact") + "/bazel/cas/" + digest);
        }
    }

    /** The baseline recording, read as a client of replay-service: 200 must be the recorded bytes. */
    private static void readBaseline(Uploads reads) throws Exception {
        Answer answer = send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + Services.PORTS.get("replay")
                + "/api/v1/recordings/" + baselineKey + "/messages"))
                .header(dev.reprise.events.StreamTickets.SERVICE_HEADER, Services.tickets().serviceToken()).GET());
        if (answer.status == 200 && !new String(answer.body, StandardCharsets.UTF_8).strip().equals(baselineMessages.strip())) {
            reads.corrupt++;
            reads.problems.add("recording " + baselineKey + " answered 200 with other messages");
        }
    }

    private record Answer(int status, byte[] body) {
    }

    private static Services.Answer post(String body) {
        try {
            return Services.post("gateway", "/api/v1/builds", body);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Sends with the development token; status 0 when nothing answered. */
    private static Answer send(HttpRequest.Builder request) throws IOException, InterruptedException {
        try {
            HttpResponse<byte[]> response = HTTP.send(request.timeout(Duration.ofSeconds(20))
                    .header("Authorization", "Bearer " + Services.token()).build(), HttpResponse.BodyHandlers.ofByteArray());
            return new Answer(response.statusCode(), response.body());
        } catch (IOException e) {
            return new Answer(0, new byte[0]);
        }
    }

    // --- the faults ---

    private static void killService(String service) throws Exception {
        long pid = Services.pid(service);
        Services.Run kill = Services.run(Services.ROOT, Map.of(), Duration.ofSeconds(10), "kill", "-9", Long.toString(pid));
        assertThat(kill.exitCode()).as(kill.output()).isZero();
        await().atMost(Duration.ofSeconds(10)).until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
    }

    private static void startService(String service) throws Exception {
        expectSuccess(Services.script("deploy/local/services.sh", "up", service));
    }

    private static void infra(String verb, String component) throws Exception {
        expectSuccess(Services.script("deploy/local/infra.sh", verb, component));
    }

    /** infra.sh owns a component it started (a pid file in run/); an external one is the machine's. */
    private static boolean owned(String component) {
        return Files.exists(Services.home().resolve("run").resolve(component + ".pid"));
    }

    // Decided before any fault: a stopped store has no pid file, whoever started it.
    private static final boolean OWN_REDIS = owned("redis");
    private static final boolean OWN_POSTGRES = owned("postgres");

    private static void stopRedis() throws Exception {
        if (OWN_REDIS) {
            infra("down", "redis");
        } else {
            expectSuccess(Services.run(Services.ROOT, redisAuth(), Duration.ofSeconds(30), "redis-cli", "-h", "127.0.0.1", "-p",
                    redisPort(), "shutdown", "nosave"), 0, 1);
        }
        await().atMost(Duration.ofSeconds(20)).until(() -> !portOpen(Integer.parseInt(redisPort())));
    }

    /** The machine's own Redis comes back as it was (nothing on disk); one of ours through infra.sh. */
    private static void startRedis() throws Exception {
        if (OWN_REDIS) {
            infra("up", "redis");
        } else {
            expectSuccess(Services.run(Services.ROOT, Map.of(), Duration.ofSeconds(30), "redis-server", "--daemonize", "yes",
                    "--bind", "127.0.0.1", "--port", redisPort(), "--save", "", "--appendonly", "no", "--requirepass",
                    redisAuth().get("REDISCLI_AUTH")));
            await().atMost(Duration.ofSeconds(20)).until(() -> portOpen(Integer.parseInt(redisPort())));
        }
    }

    private static void stopPostgres() throws Exception {
        if (OWN_POSTGRES) {
            infra("down", "postgres");
        } else {
            expectSuccess(Services.run(Services.ROOT, Map.of(), Duration.ofSeconds(60), "pg_ctlcluster", postgresCluster()[0],
                    postgresCluster()[1], "stop", "-m", "fast"));
        }
    }

    private static void startPostgres() throws Exception {
        if (OWN_POSTGRES) {
            infra("up", "postgres");
        } else {
            expectSuccess(Services.run(Services.ROOT, Map.of(), Duration.ofSeconds(60), "pg_ctlcluster", postgresCluster()[0],
                    postgresCluster()[1], "start"));
        }
    }

    /** The version and name of the machine's cluster on PG_PORT, from pg_lsclusters. */
    private static String[] postgresCluster() throws Exception {
        String port = System.getenv().getOrDefault("PG_PORT", "5432");
        Services.Run clusters = Services.run(Services.ROOT, Map.of(), Duration.ofSeconds(10), "pg_lsclusters", "-h");
        return clusters.output().lines().map(l -> l.trim().split("\\s+")).filter(f -> f.length > 2 && f[2].equals(port))
                .findFirst().orElseThrow(() -> new IllegalStateException("no cluster on port " + port + ": " + clusters.output()));
    }

    /** redis-cli's password, through its environment (REDIS_PASSWORD: every local Redis asks for it). */
    private static Map<String, String> redisAuth() {
        return Map.of("REDISCLI_AUTH", System.getenv().getOrDefault("REDIS_PASSWORD", ""));
    }

    private static String redisPort() {
        return System.getenv().getOrDefault("REDIS_PORT", "6379");
    }

    private static boolean portOpen(int port) {
        try (java.net.Socket socket = new java.net.Socket()) {
            socket.connect(new java.net.InetSocketAddress("127.0.0.1", port), 500);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static void expectSuccess(Services.Run run, Integer... codes) {
        List<Integer> ok = codes.length == 0 ? List.of(0) : List.of(codes);
        assertThat(run.exitCode()).as(run.output()).isIn(ok);
    }

    // --- waiting and reading ---

    private static void awaitAllReady() {
        await().atMost(READY_TIMEOUT).pollInterval(Duration.ofMillis(200)).until(() -> Services.PORTS.keySet().stream()
                .allMatch(service -> Services.get(service, "/q/health/ready").status() == 200));
    }

    private static String awaitTerminal(String id) {
        String[] status = new String[1];
        try {
            await().atMost(Builds.BUILD_TIMEOUT).pollInterval(Duration.ofMillis(300)).until(() -> {
                status[0] = Services.getAuthorized("gateway", "/api/v1/builds/" + id).body().path("status").asText();
                return TERMINAL.contains(status[0]);
            });
        } catch (org.awaitility.core.ConditionTimeoutException e) {
            // reported as stuck
        }
        return status[0];
    }

    /** Adds newly published events to their build's list; the map. */
    private static Map<String, List<String>> poll(KafkaConsumer<String, String> topic, Map<String, List<String>> published) {
        try {
            for (ConsumerRecord<String, String> r : topic.poll(Duration.ofMillis(200))) {
                published.computeIfAbsent(r.key(), k -> new ArrayList<>()).add(r.value());
            }
        } catch (org.apache.kafka.common.KafkaException brokerAway) {
            // the broker is the fault: the consumer catches up once it is back
        }
        return published;
    }

    private static JsonNode json(String event) {
        try {
            return Services.JSON.readTree(event);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    static long seq(String event) {
        return json(event).path("seq").asLong();
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
