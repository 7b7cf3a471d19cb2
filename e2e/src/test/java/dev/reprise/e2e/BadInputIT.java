package dev.reprise.e2e;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.DynamicContainer.dynamicContainer;
import static org.junit.jupiter.api.DynamicTest.dynamicTest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reprise.events.StreamTickets;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.net.http.WebSocketHandshakeException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicContainer;
import org.junit.jupiter.api.DynamicNode;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

/**
 * A generated corpus of bad inputs sent to the five running services over raw HTTP/1.1 (so that
 * nothing client-side cleans them up first) and the JDK WebSocket client: malformed and hostile
 * JSON, bad field values, bad ids, keys and query parameters, wrong media types, missing or
 * garbage credentials, oversize bodies, headers and URIs, broken framing, WebSocket protocol
 * violations and a slow-loris body. Every answer must be a 4xx (the documented code where there
 * is one; a WebSocket is closed with 1008 or 4404, never 1011), never a 5xx, never a Java stack
 * trace, and a problem+json answer must say what to fix.
 *
 * <p>No input is valid: a build body always names a repository that does not exist (so even a
 * value the gateway wrongly accepts ends in a 400 from {@code git ls-remote}, never a queued
 * build), and every image spec carries a sentinel dependency no builder accepts (and the test
 * checks that the refusal was for the input under test, not only for the sentinel).
 */
class BadInputIT {

    private static final int GATEWAY = Services.PORTS.get("gateway");
    private static final int RUNNER = Services.PORTS.get("build-runner");
    private static final int REPLAY = Services.PORTS.get("replay");
    private static final int ARTIFACT = Services.PORTS.get("artifact");
    private static final int IMAGES = Services.PORTS.get("image-cache");

    /** A repository no build can use: a value the gateway wrongly accepts still ends in a 400, never a build. */
    private static final String NOWHERE = "file:///nonexistent/reprise-bad-input-corpus.git";
    /** A dependency name no package manager accepts; it is in every image spec, so no spec is ever valid. */
    private static final String SENTINEL = "reprise-sentinel-INVALID!";
    private static final String SENTINEL_DEP = "{\"type\":\"apt\",\"name\":\"" + SENTINEL + "\"}";
    private static final Duration SLOW_LORIS_BUDGET = Duration.ofSeconds(75); // the 60 s idle timeouts plus margin
    private static final Duration READ_TIMEOUT = Duration.ofSeconds(20);
    private static final Duration WS_TIMEOUT = Duration.ofSeconds(5);
    /** The local development tenant (README: whoami answers tenantId "dev"). */
    private static final String TENANT = "dev";
    /** Filled in when a request is sent: {service-token}, and stream tickets {T:subject} (valid), {X:subject} (expired), {F:subject} (forged). */
    private static final Pattern PLACEHOLDER = Pattern.compile("\\{(service-token(?:-altered)?|[TXF]:[^}]*)\\}");

    /** A Java stack trace (or a piece of one) in a response body. */
    private static final Pattern STACK_TRACE = Pattern.compile(
            "\\n\\s*at [\\w$.]+\\(|\\tat |\\bat (dev|io|java|jdk|org|com|sun)\\.[\\w$]+\\.|Exception: [^\\n]*\\n\\s+at ");

    private static final HttpClient WS_CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private static final List<String> LOG = Collections.synchronizedList(new ArrayList<>());
    private static final List<String> SERVER_ERRORS = Collections.synchronizedList(new ArrayList<>());
    private static final AtomicInteger INPUTS = new AtomicInteger();
    private static final List<SlowLoris> LORISES = new ArrayList<>();

    private static String token;
    /** Store-wide endpoints (artifact prune and integrity, image prune and invalidate) check an operator's input only. */
    private static String operatorToken;
    private static long started;

    @BeforeAll
    static void setUp() throws IOException {
        token = Services.token();
        operatorToken = Services.operatorToken();
        started = System.nanoTime();
        // The slow bodies wait in the background while the rest of the corpus runs.
        LORISES.add(SlowLoris.start("gateway POST /api/v1/builds", GATEWAY, "POST", "/api/v1/builds", "application/json",
                "{\"reposito"));
        LORISES.add(SlowLoris.start("artifact PUT /bazel/cas/{sha256}", ARTIFACT, "PUT", "/bazel/cas/" + sha256("not these bytes"),
                "application/octet-stream", "0123456789"));
        LORISES.add(SlowLoris.start("image-cache POST /api/v1/images/resolve", IMAGES, "POST", "/api/v1/images/resolve",
                "application/json", "{\"dependen"));
    }

    @AfterAll
    static void tearDown() throws IOException {
        Path report = Services.ROOT.resolve("e2e/target/bad-input-corpus.tsv");
        Files.createDirectories(report.getParent());
        synchronized (LOG) {
            Files.write(report, LOG, StandardCharsets.UTF_8);
        }
        System.out.println("bad-input corpus: " + INPUTS.get() + " inputs, " + SERVER_ERRORS.size() + " server errors (details: " + report + ")");
    }

    @TestFactory
    Stream<DynamicNode> badInputs() {
        List<DynamicNode> groups = new ArrayList<>();
        groups.add(group("gateway POST /api/v1/builds: malformed JSON", gatewayMalformedBodies()));
        groups.add(group("gateway POST /api/v1/builds: bad field values", gatewayFieldValues()));
        groups.add(group("gateway POST /api/v1/builds: size, framing, media type", gatewayFraming()));
        groups.add(group("gateway: credentials", gatewayCredentials()));
        groups.add(group("gateway: ids, keys and query parameters", gatewayPathsAndQueries()));
        groups.add(group("artifact-service: Bazel", artifactBazel()));
        groups.add(group("artifact-service: Gradle, ccache and Maven", artifactPathKeys()));
        groups.add(group("artifact-service: Turborepo", artifactTurbo()));
        groups.add(group("artifact-service: Nx", artifactNx()));
        groups.add(group("artifact-service: actions cache and admin API", artifactActionsAndAdmin()));
        groups.add(group("artifact-service: credentials", artifactCredentials()));
        groups.add(group("image-cache-service: image specs", imageSpecs()));
        groups.add(group("image-cache-service: ids, parameters, prune, invalidate, sizes", imageOther()));
        groups.add(group("replay-service: HTTP", replayHttp()));
        groups.add(dynamicContainer("replay-service: WebSocket", replayWebSockets()));
        groups.add(group("every service: HTTP protocol abuse", protocolAbuse()));
        List<DynamicNode> all = new ArrayList<>(groups);
        for (SlowLoris loris : LORISES) {
            all.add(dynamicTest("slow-loris: " + loris.name + " declares Content-Length: 1000 and sends 10 bytes", loris::check));
        }
        all.add(dynamicTest("tally", () -> {
            int n = INPUTS.get();
            System.out.println("bad-input corpus: " + n + " inputs, " + SERVER_ERRORS.size() + " server errors");
            assertThat(n).as("inputs sent").isGreaterThanOrEqualTo(200);
            assertThat(SERVER_ERRORS).as("inputs answered with a server error").isEmpty();
        }));
        return all.stream();
    }

    // ---------------------------------------------------------------------------------------------
    // gateway-service
    // ---------------------------------------------------------------------------------------------

    private static List<Case> gatewayMalformedBodies() {
        List<Case> cases = new ArrayList<>();
        cases.add(buildPost("empty body", bytes(""), Expect.of(400).field("body")));
        cases.add(buildPost("{} (no repository)", bytes("{}"), Expect.of(400).field("repository")));
        List<String> texts = List.of("   \n\t ", "{", "}", "{\"repository\":", "{\"repository\":\"file:///x", "[", "]",
                "{\"repository\":\"" + NOWHERE + "\",}", "{'repository':'x','tool':'maven'}", "{repository:\"x\"}",
                "{\"repository\" \"x\"}", "{\"repository\":\"x\" \"tool\":\"maven\"}", "{}{}", "{} trailing", "null", "true", "42",
                "-0", "\"a string\"", "[]", "[{\"repository\":\"" + NOWHERE + "\",\"tool\":\"maven\"}]", "{\"tool\":NaN}",
                "{\"timeoutSeconds\":Infinity}", "/* comment */ {}", "{\"tool\":\"maven\"} // comment", "{\"repository\":\"\\uZZZZ\"}",
                "{\"repository\":\"\\x41\"}", "{\"repository\":'x'}", "\uFEFF{\"tool\":\"maven\"}", "{\"repository\":\"x\"\"}",
                "{\"env\":{\"A\":\"1\",}}", "{\"" + "k".repeat(3000) + "\":1}");
        for (String text : texts) {
            cases.add(buildPost("body " + show(text), bytes(text), Expect.of(400).problem()));
        }
        // Nesting 10 000 levels deep, where the parser meets it at the top, in a known field and in an unknown one.
        cases.add(buildPost("10000 nested arrays", bytes("[".repeat(10_000) + "]".repeat(10_000)), Expect.of(400).problem()));
        cases.add(buildPost("repository = 10000 nested arrays",
                bytes("{\"repository\":" + "[".repeat(10_000) + "]".repeat(10_000) + ",\"tool\":\"maven\"}"), Expect.of(400).problem()));
        cases.add(buildPost("env = 10000 nested objects",
                bytes("{\"repository\":\"" + NOWHERE + "\",\"tool\":\"maven\",\"env\":" + "{\"A\":".repeat(10_000) + "1" + "}".repeat(10_000) + "}"),
                Expect.of(400).problem()));
        cases.add(buildPost("10000 unclosed objects", bytes("{\"a\":".repeat(10_000)), Expect.of(400).problem()));
        // Invalid UTF-8, inside a string value and as a field name.
        for (Map.Entry<String, byte[]> bad : invalidUtf8().entrySet()) {
            cases.add(buildPost("invalid UTF-8 " + bad.getKey() + " in repository",
                    concat(bytes("{\"repository\":\"file:///x"), bad.getValue(), bytes("\",\"tool\":\"maven\"}")), Expect.of(400).problem()));
            cases.add(buildPost("invalid UTF-8 " + bad.getKey() + " as a field name",
                    concat(bytes("{\"repository\":\"" + NOWHERE + "\",\"tool\":\"maven\",\""), bad.getValue(), bytes("\":1}")),
                    Expect.of(400).problem()));
        }
        // NUL bytes, raw.
        cases.add(buildPost("raw NUL inside a string", concat(bytes("{\"repository\":\"file:///x"), new byte[] {0},
                bytes("y\",\"tool\":\"maven\"}")), Expect.of(400).problem()));
        cases.add(buildPost("raw NUL between tokens", concat(bytes("{\"repository\":\"" + NOWHERE + "\","), new byte[] {0},
                bytes("\"tool\":\"maven\"}")), Expect.of(400).problem()));
        cases.add(buildPost("raw NUL before the body", concat(new byte[] {0}, bytes("{\"repository\":\"" + NOWHERE + "\",\"tool\":\"maven\"}")),
                Expect.of(400).problem()));
        cases.add(buildPost("raw NUL after the body", concat(bytes("{\"repository\":\"" + NOWHERE + "\",\"tool\":\"maven\"}"), new byte[] {0}),
                Expect.of(400).problem()));
        cases.add(buildPost("1000 raw NUL bytes", new byte[1000], Expect.of(400).problem()));
        return cases;
    }

    private static List<Case> gatewayFieldValues() {
        List<Case> cases = new ArrayList<>();
        // repository: every value is refused by the URL rules, or (file:///../../etc, file:///etc/passwd) by git ls-remote.
        List<String> repositories = List.of("file:///../../etc", "file:///../../etc/passwd", "file:///etc/passwd", "file://../../etc",
                "file://localhost/etc", "file:relative/path", "https://user:secret@github.com/org/app.git",
                "https://ghp_0123456789abcdef@github.com/org/app.git", "ssh://git:secret@github.com/org/app.git",
                "https://user:@github.com/org/app.git", "http://github.com/org/app.git", "git://github.com/org/app.git",
                "ftp://example.com/app.git", "javascript:alert(1)", "data:text/plain;base64,AAAA", "jar:file:///app.jar!/",
                "gopher://127.0.0.1:6379/_FLUSHALL", "/etc/passwd", "../../etc", "github.com/org/app.git", "https://",
                "https:///org/app.git", "https://github.com/org/app.git?ref=main", "https://github.com/org/app.git#main",
                "https://git hub.com/org/app.git", "https://[::1/org/app.git", "https://github.com/%zz",
                "ssh://-oProxyCommand=false/app", "file:///tmp/app\n.git", "file:///tmp/\u0007app", "file:///tmp/\u001b[31mapp",
                "file:///tmp/\u007fapp", "file:///tmp/\u0000app", "file:///tmp/app\r\nX-Injected: 1", "\u202efile:///tmp/app",
                "https://github.com/" + "a".repeat(5000), "", "   ");
        for (String repository : repositories) {
            cases.add(buildField("repository", q(repository), true));
        }
        for (String raw : List.of("123", "true", "[]", "{}", "null", "[\"" + NOWHERE + "\"]")) {
            cases.add(buildField("repository", raw, true));
        }
        // ref
        List<String> refs = List.of("..", "a..b", "main..HEAD", "../../etc/passwd", "main branch", "-rf", "--upload-pack=touch /tmp/pwned",
                "-", "main\u0000", "main\n", "main\u0007", "main\u001b[31m", "a".repeat(256), "a".repeat(5000), "main;rm -rf /", "$(id)",
                "`id`", "main|cat", "ü", "main\\x", "refs/heads/ma in", "main\r\nX-Injected: 1", "*", "main?", "main:other", "[main]");
        for (String ref : refs) {
            cases.add(buildField("ref", q(ref), true));
        }
        for (String raw : List.of("[]", "{}", "[\"main\"]")) {
            cases.add(buildField("ref", raw, true));
        }
        // tool
        for (String tool : List.of("unknown", "MAVEN", "maven ", "", "mvn", "maven\u0000", "../maven", "maven;make", "a".repeat(5000))) {
            cases.add(buildField("tool", q(tool), true));
        }
        for (String raw : List.of("null", "1", "true", "[]", "{}", "[\"maven\"]")) {
            cases.add(buildField("tool", raw, true));
        }
        cases.add(buildPost("tool = \"custom\" without a command", bytes(json(Map.of("repository", q(NOWHERE), "tool", q("custom")))),
                Expect.of(400).field("command")));
        // command (tool custom)
        for (String raw : List.of(q("a".repeat(5000)), q("echo\u0000hi"), q(""), q("   "), "[]", "{}", "[\"echo\",\"hi\"]")) {
            Map<String, String> body = new LinkedHashMap<>();
            body.put("repository", q(NOWHERE));
            body.put("tool", q("custom"));
            body.put("command", raw);
            cases.add(buildPost("tool custom, command = " + show(raw), bytes(json(body)), Expect.of(400).field("command")));
        }
        // env
        List<String> envNames = List.of("lower", "1ABC", "A-B", "A B", "", "A\u0000", "A".repeat(129), "PATH=x", "Ä", "A\n", "$(id)",
                "A.B", "../A");
        for (String name : envNames) {
            cases.add(buildField("env", "{" + q(name) + ":\"1\"}", true, "env name " + show(name)));
        }
        cases.add(buildField("env", envOf(33, 1), true, "33 variables"));
        cases.add(buildField("env", envOf(500, 1), true, "500 variables"));
        cases.add(buildField("env", "{\"A\":" + q("x".repeat(4097)) + "}", true, "a 4097-character value"));
        cases.add(buildField("env", envOf(5, 4000), true, "5 values of 4000 characters (over 16 KiB in all)"));
        for (String raw : List.of("{\"A\":null}", "{\"A\":\"\\u0000\"}", "{\"A\":[]}", "{\"A\":{}}", "[]", "\"A=1\"", "1", "[\"A=1\"]")) {
            cases.add(buildField("env", raw, true));
        }
        // timeoutSeconds
        for (String raw : List.of("-1", "0", "86401", "2147483647", "-2147483648", "\"abc\"", "true", "[]", "{}", "\"-1\"")) {
            cases.add(buildField("timeoutSeconds", raw, true));
        }
        for (String raw : List.of("2147483648", "-2147483649", "1e10", "99999999999999999999", "1.5e300", "-1.5")) {
            cases.add(buildField("timeoutSeconds", raw, false));
        }
        // fresh
        for (String raw : List.of("\"yes\"", "\"maybe\"", "[]", "{}")) {
            cases.add(buildField("fresh", raw, true));
        }
        // unknown fields
        for (String name : List.of("repo", "Repository", "tool ", "__proto__", "constructor", "privileged", "image", "$where",
                "timeout", "environment")) {
            Map<String, String> body = new LinkedHashMap<>();
            body.put("repository", q(NOWHERE));
            body.put("tool", q("maven"));
            body.put(name, "1");
            cases.add(buildPost("unknown field " + show(name), bytes(json(body)), Expect.of(400).field(name.strip())));
        }
        cases.add(buildPost("duplicate repository field, the second with credentials",
                bytes("{\"repository\":\"" + NOWHERE + "\",\"repository\":\"https://u:p@github.com/o/a.git\",\"tool\":\"maven\"}"),
                Expect.of(400).problem()));
        return cases;
    }

    private static List<Case> gatewayFraming() {
        List<Case> cases = new ArrayList<>();
        String tooBig = "{\"repository\":\"" + NOWHERE + "\",\"tool\":\"maven\",\"command\":\"" + "a".repeat(64 * 1024) + "\"}";
        cases.add(buildPost("a body of " + tooBig.length() + " bytes (over 64 KiB)", bytes(tooBig), Expect.of(413)));
        cases.add(buildPost("a body of 1 MiB", bytes("[" + "1,".repeat(512 * 1024) + "1]"), Expect.of(413)));
        cases.add(new Case("POST /api/v1/builds chunked body of 100 KiB", GATEWAY,
                Req.of("POST", "/api/v1/builds").auth().body("application/json", bytes(tooBig + " ".repeat(36 * 1024))).chunked(),
                Expect.of(413).mayClose()));
        cases.add(new Case("POST /api/v1/builds Expect: 100-continue with Content-Length 1 MiB", GATEWAY,
                Req.of("POST", "/api/v1/builds").auth().header("Expect", "100-continue")
                        .body("application/json", bytes("[" + "1,".repeat(512 * 1024) + "1]")),
                Expect.of(413, 417)));
        byte[] invalid = bytes("{\"repository\":\"" + NOWHERE + "\",\"tool\":\"nope\"}");
        cases.add(new Case("POST /api/v1/builds Content-Length smaller than the body", GATEWAY,
                Req.of("POST", "/api/v1/builds").auth().header("Content-Type", "application/json").header("Content-Length", "10")
                        .rawBody(invalid), Expect.of(400)));
        for (String length : List.of("-1", "abc", "1e3", "99999999999999999999", "10, 20")) {
            cases.add(new Case("POST /api/v1/builds Content-Length: " + length, GATEWAY,
                    Req.of("POST", "/api/v1/builds").auth().header("Content-Type", "application/json").header("Content-Length", length)
                            .rawBody(invalid), Expect.of(400, 413).mayClose()));
        }
        cases.add(new Case("POST /api/v1/builds two different Content-Length headers", GATEWAY,
                Req.of("POST", "/api/v1/builds").auth().header("Content-Type", "application/json")
                        .header("Content-Length", String.valueOf(invalid.length)).header("Content-Length", "5").rawBody(invalid),
                Expect.of(400).mayClose()));
        cases.add(new Case("POST /api/v1/builds Content-Length and Transfer-Encoding: chunked together", GATEWAY,
                Req.of("POST", "/api/v1/builds").auth().header("Content-Type", "application/json").header("Content-Length", "3")
                        .body(null, invalid).chunked(), Expect.any().mayClose()));
        cases.add(new Case("POST /api/v1/builds Transfer-Encoding: gzip", GATEWAY,
                Req.of("POST", "/api/v1/builds").auth().header("Content-Type", "application/json").header("Transfer-Encoding", "gzip")
                        .rawBody(invalid), Expect.any().mayClose()));
        cases.add(new Case("POST /api/v1/builds chunked with a bad chunk size", GATEWAY,
                Req.of("POST", "/api/v1/builds").auth().header("Content-Type", "application/json").header("Transfer-Encoding", "chunked")
                        .rawBody(bytes("zz\r\n{}\r\n0\r\n\r\n")), Expect.of(400).mayClose()));
        cases.add(new Case("POST /api/v1/builds without Content-Length or Transfer-Encoding", GATEWAY,
                Req.of("POST", "/api/v1/builds").auth().header("Content-Type", "application/json"), Expect.of(400, 411)));
        // Media types: refused before the body is read.
        for (String type : List.of("text/plain", "application/xml", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x",
                "application/octet-stream", "text/json", "application/jsonx", "application/yaml", "image/png")) {
            cases.add(new Case("POST /api/v1/builds Content-Type: " + type, GATEWAY,
                    Req.of("POST", "/api/v1/builds").auth().body(type, invalid), Expect.of(415)));
        }
        for (String type : Stream.of("", "garbage;;;", "application/json; charset=utf-16", "*/*", "application/*", "application/json\u0000")
                .toList()) {
            cases.add(new Case("POST /api/v1/builds Content-Type: " + show(type), GATEWAY,
                    Req.of("POST", "/api/v1/builds").auth().body(type, invalid), Expect.of(400, 415)));
        }
        cases.add(new Case("POST /api/v1/builds without a Content-Type", GATEWAY,
                Req.of("POST", "/api/v1/builds").auth().body(null, invalid), Expect.of(400, 415)));
        return cases;
    }

    private static List<Case> gatewayCredentials() {
        List<Case> cases = new ArrayList<>();
        byte[] invalid = bytes("{\"repository\":\"" + NOWHERE + "\",\"tool\":\"nope\"}");
        Map<String, Req> endpoints = new LinkedHashMap<>();
        endpoints.put("POST /api/v1/builds", Req.of("POST", "/api/v1/builds").body("application/json", invalid));
        endpoints.put("GET /api/v1/builds", Req.of("GET", "/api/v1/builds"));
        endpoints.put("GET /api/v1/builds/{id}", Req.of("GET", "/api/v1/builds/" + UUID.randomUUID()));
        endpoints.put("POST /api/v1/builds/{id}/cancel", Req.of("POST", "/api/v1/builds/" + UUID.randomUUID() + "/cancel"));
        endpoints.put("GET /api/v1/whoami", Req.of("GET", "/api/v1/whoami"));
        endpoints.put("GET /api/v1/stats", Req.of("GET", "/api/v1/stats"));
        endpoints.put("DELETE /api/v1/cache/{key}", Req.of("DELETE", "/api/v1/cache/" + randomHex(64)));
        for (Map.Entry<String, Req> endpoint : endpoints.entrySet()) {
            for (Map.Entry<String, String> auth : badAuthorizations(true).entrySet()) {
                Req req = endpoint.getValue().copy();
                if (auth.getValue() != null) {
                    req.header("Authorization", auth.getValue());
                }
                // A control character in a header may be refused by the HTTP layer (a bare 400) before the API sees it.
                boolean raw = auth.getKey().contains("control");
                cases.add(new Case(endpoint.getKey() + " with " + auth.getKey(), GATEWAY, req,
                        raw ? Expect.of(400, 401) : Expect.of(401).problem()));
            }
        }
        return cases;
    }

    private static List<Case> gatewayPathsAndQueries() {
        List<Case> cases = new ArrayList<>();
        // Build ids: GET and cancel.
        List<String> ids = List.of("..%2F..%2Fetc%2Fpasswd", "%2e%2e", "..;", "a".repeat(65), "a".repeat(300), "%00", "%0A", "%0D%0ASet-Cookie:x=1",
                "%1B%5B31m", "%FF%FE", "%", "%zz", "x%20y", "'%20OR%20'1'='1", "%E2%80%AE", "*", UUID.randomUUID().toString());
        for (String id : ids) {
            cases.add(new Case("GET /api/v1/builds/" + show(id), GATEWAY, Req.of("GET", "/api/v1/builds/" + id).auth(),
                    Expect.of(400, 404)));
            cases.add(new Case("POST /api/v1/builds/" + show(id) + "/cancel", GATEWAY, Req.of("POST", "/api/v1/builds/" + id + "/cancel").auth(),
                    Expect.of(400, 404)));
        }
        cases.add(new Case("GET /api/v1/builds/ + 10000 characters", GATEWAY, Req.of("GET", "/api/v1/builds/" + "a".repeat(10_000)).auth(),
                Expect.of(400, 404, 414)));
        cases.add(new Case("GET /api/v1/builds/../../../etc/passwd (raw)", GATEWAY, Req.of("GET", "/api/v1/builds/../../../etc/passwd").auth(),
                Expect.of(400, 404)));
        // List parameters.
        for (String query : List.of("size=-1", "size=0", "size=201", "size=100000", "page=-1", "status=BOGUS", "status=success",
                "status=%00", "status=QUEUED%00", "repository=ftp://x", "repository=%00", "repository=https://u:p@github.com/o/a.git",
                "repository=" + "a".repeat(3000))) {
            cases.add(new Case("GET /api/v1/builds?" + show(query), GATEWAY, Req.of("GET", "/api/v1/builds?" + query).auth(),
                    Expect.of(400).problem()));
        }
        for (String query : List.of("size=abc", "page=abc", "size=1.5", "size=2147483648", "page=99999999999", "page=1e3")) {
            cases.add(new Case("GET /api/v1/builds?" + query, GATEWAY, Req.of("GET", "/api/v1/builds?" + query).auth(), Expect.of(400, 404)));
        }
        // An empty value may be read as "not given".
        cases.add(new Case("GET /api/v1/builds?size=&page=", GATEWAY, Req.of("GET", "/api/v1/builds?size=&page=").auth(), Expect.of(400, 404).mayBe2xx()));
        // A page far past the end is not an error, but page * size must not overflow into a server error.
        cases.add(new Case("GET /api/v1/builds?page=2147483647", GATEWAY, Req.of("GET", "/api/v1/builds?page=2147483647").auth(),
                Expect.of(400).mayBe2xx()));
        cases.add(new Case("GET /api/v1/builds?page=50000000&size=200", GATEWAY, Req.of("GET", "/api/v1/builds?page=50000000&size=200").auth(),
                Expect.of(400).mayBe2xx()));
        // Cache invalidation by key.
        for (String key : List.of("abc", "ABCDEF" + randomHex(58).toUpperCase(Locale.ROOT), randomHex(63), randomHex(65), "g".repeat(64),
                "%00", "..%2F..%2Fetc", randomHex(64) + "%20", "%20" + randomHex(64), "*", "%")) {
            cases.add(new Case("DELETE /api/v1/cache/" + show(key), GATEWAY, Req.of("DELETE", "/api/v1/cache/" + key).auth(),
                    key.startsWith("..") || key.equals("%") ? Expect.of(400, 404) : Expect.of(400).field("cacheKey")));
        }
        cases.add(new Case("DELETE /api/v1/cache/{unknown key}", GATEWAY, Req.of("DELETE", "/api/v1/cache/" + randomHex(64)).auth(),
                Expect.of(404)));
        for (String query : List.of("", "?repository=", "?repository=ftp://x", "?repository=https://u:p@github.com/o/a.git", "?repository=%00",
                "?repository=file://host/x", "?repository=" + "a".repeat(3000))) {
            cases.add(new Case("DELETE /api/v1/cache" + show(query), GATEWAY, Req.of("DELETE", "/api/v1/cache" + query).auth(),
                    Expect.of(400).field("repository")));
        }
        // Stats.
        for (String hours : List.of("0", "-1", "2161", "99999", "-2147483648")) {
            cases.add(new Case("GET /api/v1/stats?hours=" + hours, GATEWAY, Req.of("GET", "/api/v1/stats?hours=" + hours).auth(),
                    Expect.of(400).field("hours")));
        }
        cases.add(new Case("GET /api/v1/stats?hours=", GATEWAY, Req.of("GET", "/api/v1/stats?hours=").auth(), Expect.of(400, 404).mayBe2xx()));
        for (String hours : List.of("abc", "1.5", "2147483648", "%00", "24%00")) {
            cases.add(new Case("GET /api/v1/stats?hours=" + show(hours), GATEWAY, Req.of("GET", "/api/v1/stats?hours=" + hours).auth(),
                    Expect.of(400, 404)));
        }
        // Methods the API does not have.
        for (String[] call : new String[][] {{"PUT", "/api/v1/builds"}, {"DELETE", "/api/v1/builds"}, {"PATCH", "/api/v1/builds/x"},
                {"PUT", "/api/v1/stats"}, {"POST", "/api/v1/whoami"}, {"GET", "/api/v1/cache/" + randomHex(64)}, {"GET", "/api/v1/builds/x/cancel"}}) {
            cases.add(new Case(call[0] + " " + show(call[1]) + " (no such method)", GATEWAY, Req.of(call[0], call[1]).auth(), Expect.of(405)));
        }
        cases.add(new Case("BREW /api/v1/builds (unknown method)", GATEWAY, Req.of("BREW", "/api/v1/builds").auth(), Expect.of(400, 405, 501)));
        return cases;
    }

    // ---------------------------------------------------------------------------------------------
    // artifact-service
    // ---------------------------------------------------------------------------------------------

    private static List<Case> artifactBazel() {
        List<Case> cases = new ArrayList<>();
        String hex = randomHex(64);
        Map<String, Expect> hashes = new LinkedHashMap<>();
        hashes.put("abc", Expect.of(400).problem());
        hashes.put(hex.substring(1), Expect.of(400).problem());
        hashes.put(hex + "0", Expect.of(400).problem());
        hashes.put(hex.toUpperCase(Locale.ROOT), Expect.of(400).problem());
        hashes.put("z".repeat(64), Expect.of(400).problem());
        hashes.put("..%2F..%2Fetc%2Fpasswd", Expect.of(400).problem());
        hashes.put("%2e%2e", Expect.of(400, 404));
        hashes.put(hex.substring(1) + "%00", Expect.of(400).problem());
        hashes.put(hex + "%20", Expect.of(400).problem());
        hashes.put("%C3%A9".repeat(32), Expect.of(400).problem());
        hashes.put("sha256:" + hex, Expect.of(400).problem());
        hashes.put("%", Expect.any());
        for (String kind : List.of("cas", "ac")) {
            for (Map.Entry<String, Expect> hash : hashes.entrySet()) {
                for (String method : List.of("GET", "HEAD", "PUT")) {
                    Req req = Req.of(method, "/bazel/" + kind + "/" + hash.getKey()).auth();
                    if (method.equals("PUT")) {
                        req.body("application/octet-stream", bytes("x"));
                    }
                    cases.add(new Case(method + " /bazel/" + kind + "/" + show(hash.getKey()), ARTIFACT, req, hash.getValue()));
                }
            }
        }
        for (String path : List.of("/bazel/foo/" + hex, "/bazel/AC/" + hex, "/bazel/cas", "/bazel/cas/", "/bazel/cas/../../../etc/passwd",
                "/bazel/cas/" + hex + "/extra")) {
            cases.add(new Case("GET " + show(path), ARTIFACT, Req.of("GET", path).auth(), Expect.of(400, 404)));
        }
        // A CAS upload whose bytes are not its path's digest: 400, nothing stored.
        cases.add(new Case("PUT /bazel/cas/sha256(\"expected\") with body \"actual\"", ARTIFACT,
                Req.of("PUT", "/bazel/cas/" + sha256("expected")).auth().body("application/octet-stream", bytes("actual")), Expect.of(400).problem()));
        cases.add(new Case("PUT /bazel/cas/{empty blob digest} with body \"x\"", ARTIFACT,
                Req.of("PUT", "/bazel/cas/" + sha256("")).auth().body("application/octet-stream", bytes("x")), Expect.of(400).problem()));
        cases.add(new Case("PUT /bazel/cas/sha256(\"x\") with chunked body \"y\"", ARTIFACT,
                Req.of("PUT", "/bazel/cas/" + sha256("x")).auth().body("application/octet-stream", bytes("y")).chunked(), Expect.of(400).problem()));
        byte[] random = new byte[1 << 20];
        new Random(7).nextBytes(random);
        cases.add(new Case("PUT /bazel/cas/{other digest} with 1 MiB of random bytes", ARTIFACT,
                Req.of("PUT", "/bazel/cas/" + sha256("something else")).auth().body("application/octet-stream", random), Expect.of(400).problem()));
        cases.add(new Case("PUT /bazel/cas/{digest} with Content-Length: abc", ARTIFACT,
                Req.of("PUT", "/bazel/cas/" + sha256("x")).auth().header("Content-Length", "abc").rawBody(bytes("x")), Expect.of(400).mayClose()));
        cases.add(new Case("GET /bazel/cas/{digest} with a 64 KiB Authorization header", ARTIFACT,
                Req.of("GET", "/bazel/cas/" + hex).header("Authorization", "Bearer " + "a".repeat(64 * 1024)), Expect.of(400, 431).mayClose()));
        cases.add(new Case("GET /bazel/cas/{digest} with a 64 KiB header", ARTIFACT,
                Req.of("GET", "/bazel/cas/" + hex).auth().header("X-Padding", "a".repeat(64 * 1024)), Expect.of(400, 431).mayClose()));
        return cases;
    }

    private static List<Case> artifactPathKeys() {
        List<Case> cases = new ArrayList<>();
        // Keys refused by the key rules whatever the router makes of them: GET and PUT.
        List<String> strict = List.of("..%2Fetc%2Fpasswd", "a%2F..%2Fb", "a%00b", "a%0Ab", "a%0D%0AX-Injected:%201", "a%20b", "a%09b",
                "a".repeat(513), "%D0%BA%D0%BB%D1%8E%D1%87", "a*b", "a%3Fb", "a:b", "~user", "a%5Cb", "a%22b", "%2F", "a%2F", "%2Fa");
        // Keys the router may normalise first (dot segments, empty segments, bad escapes): GET only, any 4xx.
        List<String> loose = List.of("..", "%2e%2e", "%2e%2e%2f%2e%2e%2fetc", ".", "a/./b", "%", "%zz", "%E0%A4%A");
        for (String protocol : List.of("gradle", "ccache", "maven")) {
            for (String key : strict) {
                for (String method : List.of("GET", "PUT")) {
                    Req req = Req.of(method, "/" + protocol + "/" + key).auth();
                    if (method.equals("PUT")) {
                        req.body("application/octet-stream", bytes("x"));
                    }
                    // Maven's resolver reads a problem body as an unclassified failure: that door answers text.
                    Expect refused = protocol.equals("maven") ? Expect.of(400).text() : Expect.of(400).problem();
                    cases.add(new Case(method + " /" + protocol + "/" + show(key), ARTIFACT, req, refused));
                }
            }
            for (String key : loose) {
                cases.add(new Case("GET /" + protocol + "/" + show(key), ARTIFACT, Req.of("GET", "/" + protocol + "/" + key).auth(), Expect.any()));
            }
            cases.add(new Case("GET /" + protocol + "/", ARTIFACT, Req.of("GET", "/" + protocol + "/").auth(), Expect.of(400, 404)));
            cases.add(new Case("PUT /" + protocol + "/ + 10000 characters", ARTIFACT,
                    Req.of("PUT", "/" + protocol + "/" + "a".repeat(10_000)).auth().body("application/octet-stream", bytes("x")),
                    Expect.of(400, 414).mayClose()));
        }
        cases.add(new Case("PUT /ccache/a/b with X-Reprise-Duration-Ms: abc", ARTIFACT,
                Req.of("PUT", "/ccache/reprise-bad-input/" + randomHex(16)).auth().header("X-Reprise-Duration-Ms", "abc")
                        .body("application/octet-stream", bytes("x")), Expect.of(400).problem()));
        cases.add(new Case("PUT /ccache/a/b with X-Reprise-Toolchain: not JSON", ARTIFACT,
                Req.of("PUT", "/ccache/reprise-bad-input/" + randomHex(16)).auth().header("X-Reprise-Toolchain", "{not json")
                        .body("application/octet-stream", bytes("x")), Expect.of(400).problem()));
        cases.add(new Case("PUT /ccache/a/b with X-Reprise-Repository: ftp://x", ARTIFACT,
                Req.of("PUT", "/ccache/reprise-bad-input/" + randomHex(16)).auth().header("X-Reprise-Repository", "ftp://x")
                        .body("application/octet-stream", bytes("x")), Expect.of(400).problem()));
        cases.add(new Case("PUT /gradle/{key} with X-Reprise-Dependency-Digests: [] (not an object)", ARTIFACT,
                Req.of("PUT", "/gradle/reprise-bad-input-" + randomHex(16)).auth().header("X-Reprise-Dependency-Digests", "[]")
                        .body("application/octet-stream", bytes("x")), Expect.of(400).problem()));
        return cases;
    }

    private static List<Case> artifactNx() {
        List<Case> cases = new ArrayList<>();
        for (String hash : List.of("a%2Fb", "..%2F..%2Fetc", "a".repeat(129), "a%00", "a%20b", "%C3%BC", "a;b", "a%27b", "a*b")) {
            for (String method : List.of("GET", "HEAD", "PUT")) {
                Req req = Req.of(method, "/v1/cache/" + hash).auth();
                if (method.equals("PUT")) {
                    req.body("application/octet-stream", bytes("x"));
                }
                cases.add(new Case(method + " /v1/cache/" + show(hash), ARTIFACT, req, Expect.of(400).text()));
            }
        }
        String hash = "reprise-bad-input-" + randomHex(16);
        cases.add(new Case("PUT /v1/cache/{hash} chunked (no Content-Length)", ARTIFACT,
                Req.of("PUT", "/v1/cache/" + hash).auth().body("application/octet-stream", bytes("x")).chunked(), Expect.of(400).text()));
        cases.add(new Case("PUT /v1/cache/{hash} without a token", ARTIFACT,
                Req.of("PUT", "/v1/cache/" + hash).body("application/octet-stream", bytes("x")), Expect.of(401).text()));
        cases.add(new Case("GET /v1/cache/{hash} with a malformed token", ARTIFACT,
                Req.of("GET", "/v1/cache/" + hash).header("Authorization", "Bearer not-a-token"), Expect.of(401).text()));
        cases.add(new Case("GET /v1/cache/{hash} never stored", ARTIFACT, Req.of("GET", "/v1/cache/" + hash).auth(), Expect.of(404).text()));
        return cases;
    }

    private static List<Case> artifactTurbo() {
        List<Case> cases = new ArrayList<>();
        for (String hash : List.of("..", "a%2Fb", "..%2F..%2Fetc", "a".repeat(129), "a%00", "a%20b", "%C3%BC", "a;b", "a%27b", "a*b")) {
            for (String method : List.of("GET", "PUT")) {
                Req req = Req.of(method, "/v8/artifacts/" + hash).auth();
                if (method.equals("PUT")) {
                    req.body("application/octet-stream", bytes("x"));
                }
                cases.add(new Case(method + " /v8/artifacts/" + show(hash), ARTIFACT, req, hash.equals("..") ? Expect.of(400, 404) : Expect.of(400).problem()));
            }
        }
        cases.add(new Case("GET /v8/artifacts/%", ARTIFACT, Req.of("GET", "/v8/artifacts/%").auth(), Expect.any()));
        String hash = randomHex(16);
        for (String query : List.of("slug=..%2Fx", "slug=a%20b", "slug=" + "s".repeat(200), "slug=%00", "teamId=a%2Fb", "teamId=%0A",
                "slug=a%2Fb&teamId=a")) {
            cases.add(new Case("GET /v8/artifacts/{hash}?" + show(query), ARTIFACT, Req.of("GET", "/v8/artifacts/" + hash + "?" + query).auth(),
                    Expect.of(400).problem()));
        }
        cases.add(new Case("GET /v8/artifacts/{hash}?slug=..", ARTIFACT, Req.of("GET", "/v8/artifacts/" + hash + "?slug=..").auth(), Expect.of(400).problem()));
        for (String duration : List.of("abc", "-1", "1e3", "1234567890123", "1.5")) {
            cases.add(new Case("PUT /v8/artifacts/{hash} with x-artifact-duration: " + duration, ARTIFACT,
                    Req.of("PUT", "/v8/artifacts/reprise-bad-input-" + randomHex(16)).auth().header("x-artifact-duration", duration)
                            .body("application/octet-stream", bytes("x")), Expect.of(400).problem()));
        }
        for (String tag : List.of("t".repeat(2000), "a b", "tag\u0001")) {
            boolean control = tag.contains("\u0001"); // may be refused by the HTTP layer, a bare 400
            cases.add(new Case("PUT /v8/artifacts/{hash} with x-artifact-tag: " + show(tag), ARTIFACT,
                    Req.of("PUT", "/v8/artifacts/reprise-bad-input-" + randomHex(16)).auth().header("x-artifact-tag", tag)
                            .body("application/octet-stream", bytes("x")), control ? Expect.of(400) : Expect.of(400).problem()));
        }
        // POST /v8/artifacts: which hashes are cached.
        Map<String, byte[]> queries = new LinkedHashMap<>();
        queries.put("empty body", bytes(""));
        for (String text : List.of("{", "[]", "null", "42", "\"x\"", "{\"hashes\":\"x\"}", "{\"hashes\":{}}", "{\"hashes\":null}",
                "{\"hashes\":[1]}", "{\"hashes\":[null]}", "{\"hashes\":[\"..\"]}", "{\"hashes\":[\"a b\"]}", "{\"hashes\":[[]]}",
                "{\"hashes\":[\"" + "a".repeat(200) + "\"]}", "{\"other\":[]}")) {
            queries.put(show(text), bytes(text));
        }
        queries.put("1001 hashes", bytes("{\"hashes\":[" + IntStream.range(0, 1001).mapToObj(i -> "\"h" + i + "\"").collect(Collectors.joining(",")) + "]}"));
        queries.put("10000 nested arrays", bytes("{\"hashes\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}"));
        queries.put("invalid UTF-8", concat(bytes("{\"hashes\":[\"a"), new byte[] {(byte) 0xC3, 0x28}, bytes("\"]}")));
        queries.put("raw NUL", concat(bytes("{\"hashes\":[\"a"), new byte[] {0}, bytes("\"]}")));
        for (Map.Entry<String, byte[]> query : queries.entrySet()) {
            cases.add(new Case("POST /v8/artifacts " + query.getKey(), ARTIFACT,
                    Req.of("POST", "/v8/artifacts").auth().body("application/json", query.getValue()), Expect.of(400).problem()));
        }
        cases.add(new Case("POST /v8/artifacts with a body over 64 KiB", ARTIFACT,
                Req.of("POST", "/v8/artifacts").auth().body("application/json", bytes("{\"hashes\":[\"" + "a".repeat(70_000) + "\"]}")),
                Expect.of(413)));
        for (String text : List.of("", "{}", "not json", "[", "{\"source\":\"LOCAL\"}", "[" + "[".repeat(10_000) + "]".repeat(10_000) + "]")) {
            cases.add(new Case("POST /v8/artifacts/events " + show(text), ARTIFACT,
                    Req.of("POST", "/v8/artifacts/events").auth().body("application/json", bytes(text)), Expect.of(400).problem()));
        }
        return cases;
    }

    private static List<Case> artifactActionsAndAdmin() {
        List<Case> cases = new ArrayList<>();
        List<String> queries = List.of("", "key=", "key=a,b", "key=" + "k".repeat(513), "key=a%01b", "key=a%7Fb", "key=%C3%A9",
                "key=a%00", "key=k&version=a%2Fb", "key=k&version=" + "v".repeat(129), "key=k&version=a%20b", "key=k&branch=..",
                "key=k&branch=a..b", "key=k&branch=%2Fmain", "key=k&branch=main%2F", "key=k&branch=main.lock", "key=k&branch=a%20b",
                "key=k&branch=a~b", "key=k&branch=" + "b".repeat(256), "key=k&restoreKeys=" + IntStream.range(0, 11).mapToObj(i -> "r" + i)
                        .collect(Collectors.joining(",")), "key=k&restoreKeys=a%01");
        for (String query : queries) {
            cases.add(new Case("GET /api/v1/caches?" + show(query), ARTIFACT, Req.of("GET", "/api/v1/caches?" + query).auth(), Expect.of(400).problem()));
        }
        for (String query : List.of("", "key=a,b", "key=" + "k".repeat(513), "key=a%01b", "key=k&version=a%2Fb", "key=k&branch=..")) {
            cases.add(new Case("PUT /api/v1/caches?" + show(query) + " (JSON body)", ARTIFACT,
                    Req.of("PUT", "/api/v1/caches?" + query).auth().body("application/json", bytes("{\"key\":")), Expect.of(400).problem()));
        }
        cases.add(new Case("POST /api/v1/caches with a malformed JSON body", ARTIFACT,
                Req.of("POST", "/api/v1/caches").auth().body("application/json", bytes("{\"key\":")), Expect.of(400, 404, 405)));
        for (String id : List.of("abc", "-1", "1234567890123456789", "%00", "99999999999")) {
            cases.add(new Case("GET /api/v1/caches/" + id + "/archive", ARTIFACT, Req.of("GET", "/api/v1/caches/" + id + "/archive").auth(),
                    Expect.of(400, 404)));
        }
        // The dependency caches' door: the same checks as /api/v1/caches, and provenance headers that say what they must be.
        for (String query : List.of("", "key=a,b", "key=a%01b", "key=k&version=a%2Fb", "key=k&restoreKeys=a%01")) {
            cases.add(new Case("GET /api/v1/deps?" + show(query), ARTIFACT, Req.of("GET", "/api/v1/deps?" + query).auth(), Expect.of(400).problem()));
        }
        for (String header : List.of("X-Reprise-Lockfile-Hash: nope", "X-Reprise-Toolchain: {\"node\":20}", "X-Reprise-Toolchain: [1]",
                "X-Reprise-Commit-Message: %zz", "X-Reprise-Duration-Ms: soon")) {
            String[] h = header.split(": ", 2);
            cases.add(new Case("PUT /api/v1/deps with " + h[0], ARTIFACT, Req.of("PUT", "/api/v1/deps?key=deps-bad-" + h[0].length() + "&version=v")
                    .auth().header(h[0], h[1]).body("application/octet-stream", bytes("x")), Expect.of(400).problem()));
        }
        for (String id : List.of("abc", "-1", "99999999999")) {
            cases.add(new Case("GET /api/v1/deps/" + id + "/archive", ARTIFACT, Req.of("GET", "/api/v1/deps/" + id + "/archive").auth(),
                    Expect.of(400, 404)));
        }
        // Admin API: refused before anything is touched.
        // Without a key the entries are listed: refused are a bad protocol, sort, limit, toolchain, lockfile or repository.
        for (String query : List.of("?protocol=bogus&key=x", "?protocol=%00&key=x", "?protocol=bogus", "?sort=size", "?limit=0",
                "?limit=501", "?limit=abc", "?toolchain=a@@b", "?toolchain=%00", "?lockfile=abc", "?repository=ftp://x")) {
            cases.add(new Case("GET /api/v1/artifacts/entries" + show(query), ARTIFACT, Req.of("GET", "/api/v1/artifacts/entries" + query).auth(),
                    Expect.of(400).problem()));
        }
        for (String query : List.of("", "?key=a&prefix=b", "?prefix=", "?key=a%2Cb", "?repository=ftp://x", "?protocol=bogus&key=x",
                "?key=a%01", "?repository=https://u:p@github.com/o/a.git", "?toolchain=", "?toolchain=node@", "?lockfile=zz",
                "?toolchain=node&lockfile=" + "0".repeat(64))) {
            cases.add(new Case("DELETE /api/v1/artifacts/entries" + show(query), ARTIFACT, Req.of("DELETE", "/api/v1/artifacts/entries" + query).auth(),
                    Expect.of(400).problem()));
        }
        for (String query : List.of("", "?maxBytes=-1", "?maxBytes=-9223372036854775808")) {
            cases.add(new Case("POST /api/v1/artifacts/prune" + query, ARTIFACT, Req.of("POST", "/api/v1/artifacts/prune" + query).operator(),
                    Expect.of(400).problem()));
        }
        cases.add(new Case("POST /api/v1/artifacts/prune?maxBytes=abc", ARTIFACT, Req.of("POST", "/api/v1/artifacts/prune?maxBytes=abc").operator(),
                Expect.of(400, 404)));
        for (String batch : List.of("0", "-1", "100001")) {
            cases.add(new Case("POST /api/v1/artifacts/integrity?batch=" + batch, ARTIFACT,
                    Req.of("POST", "/api/v1/artifacts/integrity?batch=" + batch).operator(), Expect.of(400).problem()));
        }
        cases.add(new Case("POST /api/v1/artifacts/integrity?batch=abc", ARTIFACT, Req.of("POST", "/api/v1/artifacts/integrity?batch=abc").operator(),
                Expect.of(400, 404)));
        // A tenant's token (the development one) is refused before its input is read.
        cases.add(new Case("POST /api/v1/artifacts/prune?maxBytes=-1 (a tenant's token)", ARTIFACT,
                Req.of("POST", "/api/v1/artifacts/prune?maxBytes=-1").auth(), Expect.of(403).problem()));
        return cases;
    }

    private static List<Case> artifactCredentials() {
        List<Case> cases = new ArrayList<>();
        String hex = randomHex(64);
        Map<String, Req> endpoints = new LinkedHashMap<>();
        endpoints.put("GET /bazel/cas/{sha256}", Req.of("GET", "/bazel/cas/" + hex));
        endpoints.put("PUT /bazel/ac/{sha256}", Req.of("PUT", "/bazel/ac/" + hex).body("application/octet-stream", bytes("x")));
        endpoints.put("GET /gradle/{key}", Req.of("GET", "/gradle/" + randomHex(32)));
        endpoints.put("PUT /ccache/{key}", Req.of("PUT", "/ccache/ab/" + randomHex(30)).body("application/octet-stream", bytes("x")));
        endpoints.put("GET /v8/artifacts/{hash}", Req.of("GET", "/v8/artifacts/" + randomHex(16)));
        endpoints.put("GET /v8/artifacts/status", Req.of("GET", "/v8/artifacts/status"));
        endpoints.put("POST /v8/artifacts", Req.of("POST", "/v8/artifacts").body("application/json", bytes("{\"hashes\":[]}")));
        endpoints.put("GET /api/v1/caches", Req.of("GET", "/api/v1/caches?key=k"));
        endpoints.put("GET /api/v1/artifacts/stats", Req.of("GET", "/api/v1/artifacts/stats"));
        for (Map.Entry<String, Req> endpoint : endpoints.entrySet()) {
            for (Map.Entry<String, String> auth : badAuthorizations(false).entrySet()) {
                Req req = endpoint.getValue().copy();
                if (auth.getValue() != null) {
                    req.header("Authorization", auth.getValue());
                }
                boolean raw = auth.getKey().contains("control");
                cases.add(new Case(endpoint.getKey() + " with " + auth.getKey(), ARTIFACT, req,
                        raw ? Expect.of(400, 401) : Expect.of(401).problem()));
            }
        }
        return cases;
    }

    // ---------------------------------------------------------------------------------------------
    // image-cache-service: every body is invalid (a valid spec would start a real image build)
    // ---------------------------------------------------------------------------------------------

    private static List<Case> imageSpecs() {
        List<Case> cases = new ArrayList<>();
        for (String path : List.of("/api/v1/images/resolve", "/api/v1/images")) {
            boolean resolve = path.endsWith("resolve");
            // Malformed JSON (never a valid spec).
            List<String> texts = List.of("   ", "{", "}", "[]", "null", "42", "\"x\"", "{\"dependencies\":", "{\"dependencies\":[{]}",
                    "{\"dependencies\":[" + SENTINEL_DEP + ",]}", "{'dependencies':[" + SENTINEL_DEP + "]}", "{dependencies:[" + SENTINEL_DEP + "]}",
                    "{\"dependencies\":[" + SENTINEL_DEP + "]} trailing",
                    "{\"dependencies\":[" + SENTINEL_DEP + "]}{}");
            for (String text : texts) {
                // The sentinel keeps each of these invalid even where the parser is lenient; notFor checks it was the syntax that was refused.
                cases.add(imagePost(path, "body " + show(text), bytes(text), Expect.of(400).problem().notFor(SENTINEL)));
            }
            cases.add(imagePost(path, "empty body", bytes(""), Expect.of(400).problem()));
            cases.add(imagePost(path, "10000 nested arrays in dependencies",
                    bytes("{\"dependencies\":" + "[".repeat(10_000) + "]".repeat(10_000) + "}"), Expect.of(400).problem()));
            cases.add(imagePost(path, "10000 nested arrays", bytes("[".repeat(10_000) + "]".repeat(10_000)), Expect.of(400).problem()));
            for (Map.Entry<String, byte[]> bad : invalidUtf8().entrySet()) {
                if (resolve || bad.getKey().contains("C3 28")) {
                    cases.add(imagePost(path, "invalid UTF-8 " + bad.getKey() + " in a package name",
                            concat(bytes("{\"dependencies\":[{\"type\":\"apt\",\"name\":\"hel"), bad.getValue(), bytes("lo\"}," + SENTINEL_DEP + "]}")),
                            Expect.of(400).problem().notFor(SENTINEL)));
                }
            }
            cases.add(imagePost(path, "raw NUL in a package name", concat(bytes("{\"dependencies\":[{\"type\":\"apt\",\"name\":\"hel"),
                    new byte[] {0}, bytes("lo\"}," + SENTINEL_DEP + "]}")), Expect.of(400).problem().notFor(SENTINEL)));
            // Unknown fields, at the top and in a dependency.
            for (String field : List.of("bogus", "Dependencies", "retry_failed", "__proto__", "wait")) {
                cases.add(imagePost(path, "unknown field " + field,
                        bytes("{\"dependencies\":[" + SENTINEL_DEP + "]," + q(field) + ":1}"), Expect.of(400).problem().notFor(SENTINEL)));
            }
            for (String field : List.of("arch", "Name", "versions")) {
                cases.add(imagePost(path, "unknown dependency field " + field,
                        bytes("{\"dependencies\":[{\"type\":\"apt\",\"name\":\"hello\"," + q(field) + ":\"x\"}," + SENTINEL_DEP + "]}"),
                        Expect.of(400).problem().notFor(SENTINEL)));
            }
            // Package names no package manager accepts, per type.
            List<String> names = List.of("../../etc/passwd", "..", "hel\u0000lo", "hel\nlo", "hel\u001b[31mlo", "hel lo", "$(id)", "hello;rm -rf /",
                    "-oAPT::Get::AllowUnauthenticated=true", "--index-url=http://127.0.0.1:1/", "", "@scope/../evil", "ü-paket",
                    "a".repeat(999) + "!", "hel\u202elo");
            for (String type : List.of("apt", "npm", "pip", "system")) {
                for (String name : resolve ? names : names.subList(0, 4)) {
                    cases.add(imagePost(path, type + " package named " + show(name), spec(dep(q(type), q(name), null)),
                            Expect.of(400).problem().notFor(SENTINEL)));
                }
            }
            // A 1000-character name matches the name rules; only the sentinel makes this spec invalid.
            cases.add(imagePost(path, "apt package named a×1000", spec(dep(q("apt"), q("a".repeat(1000)), null)), Expect.of(400).problem()));
            // Versions (apt installs exact versions only).
            List<String> versions = List.of(q("1.0\u0000"), q("1.0\u0007beta"), q("1;rm -rf /"), q("$(id)"), q("`id`"), q("../../1.0"),
                    q("a".repeat(101)), q("9".repeat(1000)), q(">=1.0"), q("1.0 || 2.0"), q("1.0\n2.0"), "[]", "{}");
            for (String version : versions) {
                cases.add(imagePost(path, "apt hello at version " + show(version), spec(dep(q("apt"), q("hello"), version)),
                        Expect.of(400).problem().notFor(SENTINEL)));
            }
            // The same package at two versions.
            List<String[]> conflicts = List.of(new String[] {"apt", "hello", "1.0", "apt", "hello", "2.0"},
                    new String[] {"npm", "left-pad", "1.0.0", "npm", "LEFT-PAD", "2.0.0"},
                    new String[] {"pip", "Foo_Bar", "1.0", "pip", "foo.bar", "2.0"},
                    new String[] {"apt", "hello", "1.0", "APT", " hello ", "2.0"});
            for (String[] c : conflicts) {
                cases.add(imagePost(path, "conflicting versions: " + c[1] + "=" + c[2] + " and " + c[4].strip() + "=" + c[5],
                        spec(dep(q(c[0]), q(c[1]), q(c[2])), dep(q(c[3]), q(c[4]), q(c[5]))), Expect.of(400).problem().notFor(SENTINEL)));
            }
            // Unknown or missing types and names.
            for (String type : List.of(q("brew"), q("apt-get"), q(""), q("docker"), q("../apt"), q("gem"), q("apt\u0000"), "null", "1", "[]")) {
                cases.add(imagePost(path, "dependency of type " + show(type), spec(dep(type, q("hello"), null)),
                        Expect.of(400).problem().notFor(SENTINEL)));
            }
            cases.add(imagePost(path, "dependency without a type", spec("{\"name\":\"hello\"}"), Expect.of(400).problem().notFor(SENTINEL)));
            cases.add(imagePost(path, "dependency without a name", spec("{\"type\":\"apt\"}"), Expect.of(400).problem().notFor(SENTINEL)));
            // dependencies of the wrong shape.
            for (String raw : List.of("\"hello\"", "{}", "1", "[null," + SENTINEL_DEP + "]", "[1," + SENTINEL_DEP + "]", "[[]," + SENTINEL_DEP + "]",
                    "[\"hello\"," + SENTINEL_DEP + "]")) {
                cases.add(imagePost(path, "dependencies = " + show(raw), bytes("{\"dependencies\":" + raw + "}"),
                        Expect.of(400).problem().notFor(SENTINEL)));
            }
            cases.add(imagePost(path, "501 dependencies", bytes("{\"dependencies\":[" + String.join(",", Collections.nCopies(501, SENTINEL_DEP)) + "]}"),
                    Expect.of(400).problem().notFor(SENTINEL)));
            // Base images that are not image references (parsed before any registry is asked).
            List<String> bases = List.of(q("../../etc/passwd"), q("UPPER/Case:tag"), q("127.0.0.1:5000/"), q(":latest"), q("x@sha256:zz"),
                    q("127.0.0.1:5000/x\u0000"), q("A".repeat(1000)), q("127.0.0.1:5000/x:" + "t".repeat(200)), q("http://127.0.0.1:5000/x"),
                    "[]", "{}", q("127.0.0.1:99999999/reprise/x"), q("127.0.0.1:70000/reprise/x"), q("127.0.0.1:1/reprise/x"));
            for (String base : resolve ? bases : bases.subList(0, 3)) {
                cases.add(imagePost(path, "baseImage = " + show(base), bytes("{\"baseImage\":" + base + ",\"dependencies\":[" + SENTINEL_DEP + "]}"),
                        Expect.of(400).problem().notFor(SENTINEL)));
            }
        }
        cases.add(imagePost("/api/v1/images/resolve", "retryFailed = \"yes\"",
                bytes("{\"dependencies\":[" + SENTINEL_DEP + "],\"retryFailed\":\"yes\"}"), Expect.of(400).problem().notFor(SENTINEL)));
        cases.add(imagePost("/api/v1/images?wait=maybe", "an invalid spec", spec(dep(q("brew"), q("hello"), null)), Expect.of(400, 404)));
        return cases;
    }

    private static List<Case> imageOther() {
        List<Case> cases = new ArrayList<>();
        List<String> ids = List.of("abc", "..%2F..%2Fetc%2Fpasswd", "STATS", UUID.randomUUID().toString().toUpperCase(Locale.ROOT),
                UUID.randomUUID() + "x", "%00", "%0A", "'%20OR%20'1'='1", "a".repeat(300), UUID.randomUUID().toString().replace("-", ""));
        for (String id : ids) {
            for (String method : List.of("GET", "DELETE")) {
                cases.add(new Case(method + " /api/v1/images/" + show(id), IMAGES, Req.of(method, "/api/v1/images/" + id).auth(),
                        Expect.of(400).problem()));
            }
        }
        for (String id : List.of("%2e%2e", "%", "%zz")) {
            for (String method : List.of("GET", "DELETE")) {
                cases.add(new Case(method + " /api/v1/images/" + id, IMAGES, Req.of(method, "/api/v1/images/" + id).auth(), Expect.any()));
            }
        }
        String unknown = UUID.randomUUID().toString();
        cases.add(new Case("GET /api/v1/images/{unknown id}", IMAGES, Req.of("GET", "/api/v1/images/" + unknown).auth(), Expect.of(404).problem()));
        cases.add(new Case("DELETE /api/v1/images/{unknown id}", IMAGES, Req.of("DELETE", "/api/v1/images/" + unknown).auth(), Expect.of(404).problem()));
        cases.add(new Case("GET /api/v1/images/ + 10000 characters", IMAGES, Req.of("GET", "/api/v1/images/" + "a".repeat(10_000)).auth(),
                Expect.of(400, 414)));
        for (String query : List.of("page=-1", "size=0", "size=201", "size=-5", "baseImage=..%2F..%2Fx", "baseImage=%00", "baseImage=" + "A".repeat(1000),
                "baseImage=UPPER/Case")) {
            cases.add(new Case("GET /api/v1/images?" + show(query), IMAGES, Req.of("GET", "/api/v1/images?" + query).auth(), Expect.of(400).problem()));
        }
        for (String query : List.of("size=abc", "page=abc", "page=1e3", "size=2147483648")) {
            cases.add(new Case("GET /api/v1/images?" + query, IMAGES, Req.of("GET", "/api/v1/images?" + query).auth(), Expect.of(400, 404)));
        }
        // Prune: every body is refused (a valid one would prune).
        for (String text : List.of("{\"unusedDays\":-1}", "{\"maxCount\":-1}", "{\"unusedDays\":-1,\"maxCount\":-1}", "{\"unusedDays\":-1,\"maxCount\":5}",
                "{\"unusedDays\":\"abc\"}", "{\"unusedDays\":-1,\"bogus\":1}", "{\"maxCount\":2147483648}", "{\"unusedDays\":\"-1\"}",
                "{\"unusedDays\":-2147483648}", "[]", "{", "null", "{\"unusedDays\":[]}", "{\"maxCount\":{}}")) {
            cases.add(new Case("POST /api/v1/images/prune " + show(text), IMAGES,
                    Req.of("POST", "/api/v1/images/prune").operator().body("application/json", bytes(text)), Expect.of(400).problem()));
        }
        // Query parameters: anything but one dryRun=true|false is refused, so a misspelt dry run never prunes.
        for (String query : List.of("dryRun=abc", "dryrun=true", "dryRun=true&dryRun=false", "dryRun=", "dryRun=true&force=1", "unusedDays=1")) {
            cases.add(new Case("POST /api/v1/images/prune?" + query + " {\"unusedDays\":-1}", IMAGES,
                    Req.of("POST", "/api/v1/images/prune?" + query).operator().body("application/json", bytes("{\"unusedDays\":-1}")),
                    Expect.of(400).problem()));
        }
        cases.add(new Case("POST /api/v1/images/prune {\"unusedDays\":-1} (a tenant's token)", IMAGES,
                Req.of("POST", "/api/v1/images/prune").auth().body("application/json", bytes("{\"unusedDays\":-1}")), Expect.of(403).problem()));
        // Invalidate: every body is refused.
        for (String text : List.of("{", "[]", "{\"bogus\":1}", "{}", "{\"baseImage\":\"\"}", "{\"baseImage\":null}", "{\"baseImage\":\"../../x\"}",
                "{\"baseImage\":\"UPPER/Case\"}", "{\"baseImage\":[]}", "null", "")) {
            cases.add(new Case("POST /api/v1/images/invalidate " + show(text), IMAGES,
                    Req.of("POST", "/api/v1/images/invalidate").operator().body("application/json", bytes(text)), Expect.of(400).problem()));
        }
        // Sizes and media types.
        String big = "{\"dependencies\":[" + SENTINEL_DEP + "],\"baseImage\":\"" + "a".repeat(300 * 1024) + "\"}";
        cases.add(imagePost("/api/v1/images", "a body of 300 KiB", bytes(big), Expect.of(413)));
        cases.add(imagePost("/api/v1/images/resolve", "a body of 1 MiB", bytes(big + " ".repeat(700 * 1024)), Expect.of(413)));
        cases.add(new Case("POST /api/v1/images/resolve chunked body of 300 KiB", IMAGES,
                Req.of("POST", "/api/v1/images/resolve").auth().body("application/json", bytes(big)).chunked(), Expect.of(413).mayClose()));
        cases.add(new Case("POST /api/v1/images/prune a body of 300 KiB", IMAGES,
                Req.of("POST", "/api/v1/images/prune").auth().body("application/json", bytes("{\"unusedDays\":-1" + " ".repeat(300 * 1024) + "}")),
                Expect.of(413)));
        for (String[] call : new String[][] {{"/api/v1/images", "text/plain"}, {"/api/v1/images/resolve", "application/xml"},
                {"/api/v1/images/prune", "text/plain"}, {"/api/v1/images/invalidate", "application/x-www-form-urlencoded"}}) {
            cases.add(new Case("POST " + call[0] + " Content-Type: " + call[1], IMAGES,
                    Req.of("POST", call[0]).auth().body(call[1], spec(dep(q("brew"), q("hello"), null))), Expect.of(415)));
        }
        cases.add(new Case("PUT /api/v1/images/stats (no such method)", IMAGES, Req.of("PUT", "/api/v1/images/stats").auth(), Expect.of(405)));
        cases.add(new Case("PATCH /api/v1/images/{id} (no such method)", IMAGES, Req.of("PATCH", "/api/v1/images/" + unknown).auth(), Expect.of(405)));
        return cases;
    }

    // ---------------------------------------------------------------------------------------------
    // replay-service
    // ---------------------------------------------------------------------------------------------

    private static List<Case> replayHttp() {
        List<Case> cases = new ArrayList<>();
        String hex = randomHex(64);
        Map<String, Expect> keys = new LinkedHashMap<>();
        keys.put("abc", Expect.of(400).problem());
        keys.put(hex.toUpperCase(Locale.ROOT), Expect.of(400).problem());
        keys.put(hex.substring(1), Expect.of(400).problem());
        keys.put(hex + "0", Expect.of(400).problem());
        keys.put("g".repeat(64), Expect.of(400).problem());
        keys.put("..%2F..%2Fetc%2Fpasswd", Expect.of(400).problem());
        keys.put("%00", Expect.of(400).problem());
        keys.put("%0A", Expect.of(400).problem());
        keys.put(hex + "%20", Expect.of(400).problem());
        keys.put("%2e%2e", Expect.any());
        keys.put("%", Expect.any());
        for (Map.Entry<String, Expect> key : keys.entrySet()) {
            for (String suffix : List.of("", "/messages", "/recording.cast")) {
                String path = "/api/v1/recordings/" + key.getKey() + suffix;
                cases.add(new Case("GET " + show(path), REPLAY, Req.of("GET", path).auth().service(), key.getValue()));
            }
            String path = "/api/v1/recordings/" + key.getKey();
            cases.add(new Case("DELETE " + show(path), REPLAY, Req.of("DELETE", path).auth().service(), key.getValue()));
        }
        cases.add(new Case("GET /api/v1/recordings/ + 10000 characters", REPLAY, Req.of("GET", "/api/v1/recordings/" + "a".repeat(10_000)).auth().service(),
                Expect.of(400, 414)));
        for (String query : List.of("", "?repository=", "?repository=ftp://x", "?repository=https://u:p@github.com/o/a.git", "?repository=%00")) {
            cases.add(new Case("DELETE /api/v1/recordings" + show(query), REPLAY, Req.of("DELETE", "/api/v1/recordings" + query).auth().service(),
                    Expect.of(400).problem()));
        }
        for (String hours : List.of("0", "-1", "2161", "99999")) {
            cases.add(new Case("GET /api/v1/stats?hours=" + hours, REPLAY, Req.of("GET", "/api/v1/stats?hours=" + hours).auth().service(), Expect.of(400).problem()));
        }
        cases.add(new Case("GET /api/v1/stats?hours=", REPLAY, Req.of("GET", "/api/v1/stats?hours=").auth().service(), Expect.of(400, 404).mayBe2xx()));
        for (String hours : List.of("abc", "1.5", "2147483648")) {
            cases.add(new Case("GET /api/v1/stats?hours=" + hours, REPLAY, Req.of("GET", "/api/v1/stats?hours=" + hours).auth().service(), Expect.of(400, 404)));
        }
        cases.add(new Case("GET /api/v1/stats?tenant=%00", REPLAY, Req.of("GET", "/api/v1/stats?tenant=%00").auth().service(), Expect.of(400).mayBe2xx()));
        cases.add(new Case("GET /api/v1/stats?tenant=a%00b&hours=1", REPLAY, Req.of("GET", "/api/v1/stats?tenant=a%00b&hours=1").auth().service(),
                Expect.of(400).mayBe2xx()));
        // A WebSocket handshake that is not one.
        String ws = "/ws/recordings/" + randomHex(64);
        cases.add(new Case("GET " + ws + " Upgrade: websocket, Sec-WebSocket-Version: 99", REPLAY,
                Req.of("GET", ws).auth().service().header("Upgrade", "websocket").header("Connection", "Upgrade")
                        .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==").header("Sec-WebSocket-Version", "99"), Expect.any().mayClose()));
        cases.add(new Case("GET " + ws + " Upgrade: websocket without Sec-WebSocket-Key", REPLAY,
                Req.of("GET", ws).auth().service().header("Upgrade", "websocket").header("Connection", "Upgrade").header("Sec-WebSocket-Version", "13"),
                Expect.any().mayClose()));
        cases.add(new Case("POST " + ws + " Upgrade: websocket", REPLAY,
                Req.of("POST", ws).auth().service().header("Upgrade", "websocket").header("Connection", "Upgrade")
                        .header("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==").header("Sec-WebSocket-Version", "13").body("text/plain", bytes("x")),
                Expect.any().mayClose()));
        cases.add(new Case("GET " + ws + " without an upgrade", REPLAY, Req.of("GET", ws).auth().service(), Expect.any()));
        // The internal API without the service token the gateway sends (or with a wrong one): 401.
        String key = randomHex(64);
        Map<String, Req> internal = new LinkedHashMap<>();
        internal.put("GET /api/v1/recordings/{key}", Req.of("GET", "/api/v1/recordings/" + key));
        internal.put("GET /api/v1/recordings/{key}?tenant=dev", Req.of("GET", "/api/v1/recordings/" + key + "?tenant=dev"));
        internal.put("GET /api/v1/recordings/{key}/messages", Req.of("GET", "/api/v1/recordings/" + key + "/messages"));
        internal.put("DELETE /api/v1/recordings/{key}", Req.of("DELETE", "/api/v1/recordings/" + key));
        internal.put("DELETE /api/v1/recordings?repository=", Req.of("DELETE", "/api/v1/recordings?repository=" + NOWHERE));
        internal.put("GET /api/v1/stats", Req.of("GET", "/api/v1/stats"));
        internal.put("GET /api/v1/stats?tenant=dev", Req.of("GET", "/api/v1/stats?tenant=dev"));
        Map<String, String> services = new LinkedHashMap<>();
        services.put("no X-Reprise-Service", null);
        services.put("an empty X-Reprise-Service", "");
        services.put("X-Reprise-Service: garbage", "garbage");
        services.put("the service token with one character changed", "{service-token-altered}");
        services.put("the service token plus a character", "{service-token}0");
        services.put("the API token as X-Reprise-Service", token);
        services.put("a 5000-character X-Reprise-Service", "f".repeat(5000));
        for (Map.Entry<String, Req> endpoint : internal.entrySet()) {
            for (Map.Entry<String, String> service : services.entrySet()) {
                Req req = endpoint.getValue().copy().auth();
                if (service.getValue() != null) {
                    req.header("X-Reprise-Service", service.getValue());
                }
                cases.add(new Case(endpoint.getKey() + " with " + service.getKey(), REPLAY, req, Expect.of(401).problem()));
            }
        }
        // A recording's messages or asciicast with a ticket that does not open that key: 401 (a bad key stays a 400).
        for (String suffix : List.of("/messages", "/recording.cast")) {
            for (String ticket : List.of("", "garbage", "{F:key:" + key + "}", "{X:key:" + key + "}", "{T:key:" + randomHex(64) + "}",
                    "{T:build:" + UUID.randomUUID() + "}", "t".repeat(2000), "%00")) {
                cases.add(new Case("GET /api/v1/recordings/{key}" + suffix + "?ticket=" + show(ticket), REPLAY,
                        Req.of("GET", "/api/v1/recordings/" + key + suffix + "?ticket=" + ticket).auth(), Expect.of(401).problem()));
            }
            cases.add(new Case("GET /api/v1/recordings/abc" + suffix + "?ticket={valid for abc}", REPLAY,
                    Req.of("GET", "/api/v1/recordings/abc" + suffix + "?ticket={T:key:abc}").auth(), Expect.of(400).problem()));
        }
        return cases;
    }

    private static List<DynamicNode> replayWebSockets() {
        List<DynamicNode> tests = new ArrayList<>();
        String absent = randomHex(64);
        String valid = "ticket={T:key:" + absent + "}";
        // Bad keys: 1008 before anything else is looked at (with or without a ticket).
        for (String key : List.of("abc", absent.toUpperCase(Locale.ROOT), absent.substring(1), absent + "0", "g".repeat(64), "..%2F..%2Fetc",
                "%00", "%0A", absent + "%20", "a".repeat(200), "%2e%2e", "%")) {
            tests.add(wsOrRaw("/ws/recordings/" + key, Set.of(1008)));
            tests.add(wsOrRaw("/ws/recordings/" + key + "?ticket={T:key:" + key + "}", Set.of(1008)));
        }
        // Bad parameters: 1008, with a valid ticket for the key (and without one).
        for (String query : List.of("speed=-1", "speed=abc", "speed=NaN", "speed=Infinity", "speed=-Infinity", "speed=1e400", "speed=",
                "speed=0x10", "maxGapMs=-5", "maxGapMs=abc", "maxGapMs=99999999999999999999", "maxGapMs=1.5", "step=%01", "step=%00",
                "step=%0A", "step=" + "a".repeat(200), "step=", "step=%20%20", "bogus=1", "speed=1&bogus=2", "Speed=1", "speed=%ZZ", "step=%",
                "speed=1&speed=-1", "=1", "speed", "Ticket=x")) {
            tests.add(wsOrRaw("/ws/recordings/" + absent + "?" + valid + "&" + query, Set.of(1008)));
        }
        // Empty parameters are no parameters: refused (1008) or the key's answer (4404).
        tests.add(wsOrRaw("/ws/recordings/" + absent + "?" + valid + "&&&", Set.of(1008, 4404)));
        for (String query : List.of("speed=-1", "step=%01", "bogus=1", "speed=%ZZ")) {
            tests.add(wsOrRaw("/ws/recordings/" + absent + "?" + query, Set.of(1008)));
        }
        // Tickets that do not open this key: 4401.
        for (String ticket : List.of("", "ticket=", "ticket=garbage", "ticket=a.b", "ticket={F:key:" + absent + "}",
                "ticket={X:key:" + absent + "}", "ticket={T:key:" + randomHex(64) + "}", "ticket={T:build:" + UUID.randomUUID() + "}",
                "ticket=" + "t".repeat(2000), "ticket=%00", "ticket=%0A.%0A", "ticket=garbage&" + valid)) {
            tests.add(wsOrRaw("/ws/recordings/" + absent + (ticket.isEmpty() ? "" : "?" + ticket), Set.of(4401)));
        }
        // Fine parameters and a valid ticket for a key that has no recording: 4404.
        tests.add(ws("/ws/recordings/" + absent + "?" + valid + "&step=%E2%80%AE", Set.of(4404), null));
        tests.add(ws("/ws/recordings/" + absent + "?" + valid + "&speed=0&maxGapMs=9223372036854775807", Set.of(4404), null));
        // Bad build ids: 1008 (with bad parameters, with a ticket for that id).
        for (String id : List.of("a".repeat(65), "..%2F..%2Fetc", "%00", "a%20b", "a.b", "a_b", "%0A", "%E2%80%AE", "a%2Fb", "'%20OR%201=1")) {
            tests.add(wsOrRaw("/ws/builds/" + id, Set.of(1008)));
            tests.add(wsOrRaw("/ws/builds/" + id + "?speed=-1&step=%01&bogus=1&ticket={T:build:" + id + "}", Set.of(1008)));
        }
        // A well-formed build id without a ticket that opens it: 4401.
        String build = UUID.randomUUID().toString();
        for (String ticket : List.of("", "?ticket=", "?ticket=garbage", "?ticket={F:build:" + build + "}", "?ticket={X:build:" + build + "}",
                "?ticket={T:build:" + UUID.randomUUID() + "}", "?ticket={T:key:" + absent + "}", "?speed=-1&step=%01")) {
            tests.add(wsOrRaw("/ws/builds/" + build + ticket, Set.of(4401)));
        }
        // A valid-looking path the server refuses (a ticket, but no recording), while the client breaks
        // the frame sequence: a text message started and never finished, then a ping. 4404, never 1011.
        String other = randomHex(64);
        tests.add(ws("/ws/recordings/" + other + "?ticket={T:key:" + other + "}", Set.of(4404), socket -> {
            socket.sendText("{\"partial\":", false);
            socket.sendPing(ByteBuffer.wrap(bytes("x")));
        }));
        tests.add(ws("/ws/recordings/" + other + "?speed=-1", Set.of(1008), socket -> socket.sendBinary(ByteBuffer.wrap(new byte[] {0, 1, 2}), true)));
        tests.add(ws("/ws/recordings/" + other, Set.of(4401), socket -> socket.sendText("x".repeat(100_000), true)));
        // Frames that break RFC 6455, written on a raw socket into a stream that stays open (a ticket
        // for a build nobody runs): the server fails the connection (1002, 1007, 1008, 1009 or a plain
        // close), never 1011, and never ignores them.
        Map<String, byte[]> frames = new LinkedHashMap<>();
        frames.put("an unmasked text frame", concat(new byte[] {(byte) 0x81, 5}, bytes("hello")));
        frames.put("a frame with reserved opcode 0x3", maskedFrame(0x83, bytes("x")));
        frames.put("a frame with RSV1 set and no extension", maskedFrame(0xC1, bytes("x")));
        frames.put("a continuation frame with nothing to continue", maskedFrame(0x80, bytes("x")));
        frames.put("a ping of 126 bytes (control frames are at most 125)", maskedFrame(0x89, new byte[126]));
        frames.put("a fragmented ping", maskedFrame(0x09, bytes("x")));
        frames.put("a close frame with code 999", maskedFrame(0x88, new byte[] {0x03, (byte) 0xE7}));
        frames.put("a text frame started, then a new text frame", concat(maskedFrame(0x01, bytes("a")), maskedFrame(0x81, bytes("b"))));
        frames.put("a frame header announcing 2^63-1 bytes", new byte[] {(byte) 0x82, (byte) 0xFF, 0x7F, -1, -1, -1, -1, -1, -1, -1, 1, 2, 3, 4});
        for (Map.Entry<String, byte[]> frame : frames.entrySet()) {
            String id = UUID.randomUUID().toString();
            // RSV1 without a negotiated extension is a protocol error, but a server with compression support may let it pass.
            boolean lenient = frame.getKey().contains("RSV1");
            tests.add(rawWs("/ws/builds/" + id + "?ticket={T:build:" + id + "}", frame.getKey(), frame.getValue(), Set.of(1002, 1007, 1008, 1009), lenient));
        }
        String id = UUID.randomUUID().toString();
        tests.add(rawWs("/ws/builds/" + id + "?ticket={T:build:" + id + "}", "a text frame of invalid UTF-8",
                maskedFrame(0x81, new byte[] {(byte) 0xC3, 0x28}), Set.of(1002, 1007, 1008), true));
        String key = randomHex(64);
        tests.add(rawWs("/ws/recordings/" + key + "?ticket={T:key:" + key + "}", "an unmasked text frame",
                concat(new byte[] {(byte) 0x81, 5}, bytes("hello")), Set.of(1002, 1008, 4404), false));
        return tests;
    }

    // ---------------------------------------------------------------------------------------------
    // HTTP protocol abuse, against every service
    // ---------------------------------------------------------------------------------------------

    private static List<Case> protocolAbuse() {
        List<Case> cases = new ArrayList<>();
        // A path on each service that answers 4xx even when the request itself is understood.
        Map<String, Object[]> services = new LinkedHashMap<>();
        services.put("gateway", new Object[] {GATEWAY, "/api/v1/whoami"});
        services.put("build-runner", new Object[] {RUNNER, "/api/v1/no-such-thing"});
        services.put("replay", new Object[] {REPLAY, "/api/v1/recordings/not-a-key"});
        services.put("artifact", new Object[] {ARTIFACT, "/v8/artifacts/status"});
        services.put("image-cache", new Object[] {IMAGES, "/api/v1/images/not-an-id"});
        for (Map.Entry<String, Object[]> service : services.entrySet()) {
            int port = (Integer) service.getValue()[0];
            String path = (String) service.getValue()[1];
            String s = service.getKey() + ": ";
            cases.add(new Case(s + "garbage request line", port, Req.raw("GARBAGE\r\n\r\n"), Expect.of(400).mayClose()));
            cases.add(new Case(s + "spaces in the request target", port, Req.raw("GET " + path + " x y HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
                    Expect.of(400).mayClose()));
            cases.add(new Case(s + "invalid method token", port, Req.raw("G@T " + path + " HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"),
                    Expect.any().mayClose()));
            cases.add(new Case(s + "a 64 KiB header", port, Req.of("GET", path).header("X-Padding", "a".repeat(64 * 1024)), Expect.of(400, 431).mayClose()));
            cases.add(new Case(s + "1000 headers", port, withHeaders(Req.of("GET", path), 1000), Expect.of(400, 431).mayClose()));
            cases.add(new Case(s + "a 10000-character request target", port, Req.of("GET", path + "?q=" + "a".repeat(10_000)), Expect.of(400, 414).mayClose()));
            cases.add(new Case(s + "a header without a colon", port,
                    Req.raw("GET " + path + " HTTP/1.1\r\nHost: {host}\r\nNoColonHere\r\nConnection: close\r\n\r\n"), Expect.any().mayClose()));
            cases.add(new Case(s + "NUL in a header value", port, Req.of("GET", path).header("X-Nul", "a\u0000b"), Expect.any().mayClose()));
            cases.add(new Case(s + "an obs-fold header continuation", port,
                    Req.raw("GET " + path + " HTTP/1.1\r\nHost: {host}\r\nX-Folded: a\r\n  b\r\nConnection: close\r\n\r\n"), Expect.any().mayClose()));
            cases.add(new Case(s + "HTTP/1.1 without Host", port, Req.raw("GET " + path + " HTTP/1.1\r\nConnection: close\r\n\r\n"), Expect.any().mayClose()));
            cases.add(new Case(s + "an absolute-form target naming another host", port,
                    Req.raw("GET http://evil.example" + path + " HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"), Expect.any().mayClose()));
            cases.add(new Case(s + "a request line of bare LF", port, Req.raw("GET " + path + " HTTP/1.1\nHost: {host}\nConnection: close\n\n"),
                    Expect.any().mayClose()));
        }
        return cases;
    }

    // ---------------------------------------------------------------------------------------------
    // Case building
    // ---------------------------------------------------------------------------------------------

    private static Case buildPost(String label, byte[] body, Expect expect) {
        return new Case("POST /api/v1/builds " + label, GATEWAY, Req.of("POST", "/api/v1/builds").auth().body("application/json", body), expect);
    }

    /** The base body (a repository that does not exist, tool maven) with one field set to {@code raw} JSON. */
    private static Case buildField(String field, String raw, boolean strict) {
        return buildField(field, raw, strict, show(raw));
    }

    private static Case buildField(String field, String raw, boolean strict, String label) {
        Map<String, String> body = new LinkedHashMap<>();
        body.put("repository", q(NOWHERE));
        body.put("tool", q("maven"));
        body.put(field, raw);
        return buildPost(field + " = " + label, bytes(json(body)), strict ? Expect.of(400).field(field) : Expect.of(400).problem());
    }

    private static Case imagePost(String path, String label, byte[] body, Expect expect) {
        return new Case("POST " + path + " " + label, IMAGES, Req.of("POST", path).auth().body("application/json", body), expect);
    }

    /** An image spec of {@code deps}, always followed by the sentinel no builder accepts. */
    private static byte[] spec(String... deps) {
        List<String> all = new ArrayList<>(List.of(deps));
        all.add(SENTINEL_DEP);
        return bytes("{\"dependencies\":[" + String.join(",", all) + "]}");
    }

    private static String dep(String typeRaw, String nameRaw, String versionRaw) {
        return "{\"type\":" + typeRaw + ",\"name\":" + nameRaw + (versionRaw == null ? "" : ",\"version\":" + versionRaw) + "}";
    }

    private static String envOf(int count, int valueLength) {
        return IntStream.range(0, count).mapToObj(i -> "\"V" + i + "\":" + q("x".repeat(valueLength))).collect(Collectors.joining(",", "{", "}"));
    }

    /** Authorization headers that must get 401 (null: no header). */
    private static Map<String, String> badAuthorizations(boolean gateway) {
        Map<String, String> auth = new LinkedHashMap<>();
        auth.put("no Authorization", null);
        auth.put("an empty Authorization", "");
        auth.put("Authorization: Bearer", "Bearer");
        auth.put("Authorization: Bearer (blank)", "Bearer ");
        auth.put("Authorization: bearer rpr_short", "bearer rpr_short");
        auth.put("an unknown well-formed token", "Bearer rpr_" + "A".repeat(43));
        auth.put("the token plus one character", "Bearer " + token + "x");
        auth.put("Authorization: Token <token>", "Token " + token);
        auth.put("a 4000-character token", "Bearer rpr_" + "x".repeat(4000));
        auth.put("Authorization: Basic !!!", "Basic !!!");
        auth.put("Basic without a colon or token", "Basic " + Base64.getEncoder().encodeToString(bytes("ci")));
        auth.put("Basic with a wrong password", "Basic " + Base64.getEncoder().encodeToString(bytes("ci:wrong")));
        auth.put("Authorization: Digest", "Digest username=\"ci\", realm=\"reprise\"");
        if (gateway) {
            auth.put("the token as HTTP Basic (the gateway takes Bearer only)", "Basic " + Base64.getEncoder().encodeToString(bytes("ci:" + token)));
        }
        auth.put("a control character after the token", "Bearer " + token + "\u0001");
        return auth;
    }

    private static Req withHeaders(Req req, int count) {
        for (int i = 0; i < count; i++) {
            req.header("X-Header-" + i, "v".repeat(30));
        }
        return req;
    }

    /** Invalid UTF-8 sequences, by their bytes. */
    private static Map<String, byte[]> invalidUtf8() {
        Map<String, byte[]> bad = new LinkedHashMap<>();
        for (int[] sequence : new int[][] {{0xC3, 0x28}, {0xA0, 0xA1}, {0xE2, 0x28, 0xA1}, {0xF0, 0x28, 0x8C, 0x28}, {0xC0, 0xAF},
                {0xED, 0xA0, 0x80}, {0xFF, 0xFE}, {0xF8, 0x88, 0x80, 0x80, 0x80}, {0xE2, 0x82}}) {
            byte[] bytes = new byte[sequence.length];
            StringBuilder label = new StringBuilder();
            for (int i = 0; i < sequence.length; i++) {
                bytes[i] = (byte) sequence[i];
                label.append(i == 0 ? "" : " ").append(String.format("%02X", sequence[i]));
            }
            bad.put(label.toString(), bytes);
        }
        return bad;
    }

    // ---------------------------------------------------------------------------------------------
    // Running and checking an HTTP case
    // ---------------------------------------------------------------------------------------------

    /** What a correct server answers to one bad input. */
    private record Expect(Set<Integer> codes, boolean wantsProblem, String wantedField, boolean closeOk, boolean twoXxOk, String notFor,
            boolean wantsText) {

        static Expect of(Integer... codes) {
            return new Expect(Set.of(codes), false, null, false, false, null, false);
        }

        static Expect any() {
            return new Expect(Set.of(), false, null, false, false, null, false);
        }

        /** A 400/401/403/404 answer must be problem+json with a detail. */
        Expect problem() {
            return new Expect(codes, true, wantedField, closeOk, twoXxOk, notFor, false);
        }

        /** A 4xx answer must be exactly text/plain with the reason (Nx reads nothing else). */
        Expect text() {
            return new Expect(codes, false, wantedField, closeOk, twoXxOk, notFor, true);
        }

        /** The gateway's problem must name this field (or a path in it). */
        Expect field(String name) {
            return new Expect(codes, true, name, closeOk, twoXxOk, notFor, false);
        }

        /** Closing the connection without an answer is acceptable. */
        Expect mayClose() {
            return new Expect(codes, wantsProblem, wantedField, true, twoXxOk, notFor, wantsText);
        }

        /** An empty 2xx answer is acceptable too (the input is odd, not invalid). */
        Expect mayBe2xx() {
            return new Expect(codes, wantsProblem, wantedField, closeOk, true, notFor, wantsText);
        }

        /** The refusal must not be (only) for the sentinel: the input under test must be what was refused. */
        Expect notFor(String sentinel) {
            return new Expect(codes, wantsProblem, wantedField, closeOk, twoXxOk, sentinel, wantsText);
        }
    }

    private record Case(String name, int port, Req req, Expect expect) {
    }

    private static DynamicContainer group(String name, List<Case> cases) {
        return dynamicContainer(name + " (" + cases.size() + ")", cases.stream().map(c -> dynamicTest(c.name(), () -> run(c))));
    }

    private static void run(Case c) {
        Reply reply = send(c.port(), c.req());
        if (reply.status == 429) {
            // The gateway's rate limit answered, not the input: wait as told and send it again once.
            String retryAfter = reply.header("retry-after");
            sleep(Duration.ofSeconds(Math.min(5, retryAfter == null || !retryAfter.matches("\\d+") ? 1 : Long.parseLong(retryAfter))));
            reply = send(c.port(), c.req());
        }
        INPUTS.incrementAndGet();
        String text = reply.text();
        List<String> problems = new ArrayList<>();
        Expect e = c.expect();
        if (reply.status >= 500) {
            problems.add("server error " + reply.status);
            SERVER_ERRORS.add(c.name() + " -> " + reply.status);
        } else if (reply.status == 0) {
            if (!e.closeOk()) {
                problems.add("no HTTP answer (" + reply.error + ")");
            }
        } else if (reply.status < 400) {
            if (!(e.twoXxOk() && reply.status < 300)) {
                problems.add("accepted with " + reply.status + "; expected a 4xx" + (e.codes().isEmpty() ? "" : " " + sorted(e.codes())));
            }
        } else if (!e.codes().isEmpty() && !e.codes().contains(reply.status)) {
            problems.add("expected " + sorted(e.codes()) + " but got " + reply.status);
        }
        if (STACK_TRACE.matcher(text).find()) {
            problems.add("the body holds a Java stack trace");
        }
        String type = reply.header("content-type");
        boolean problemJson = type != null && type.toLowerCase(Locale.ROOT).startsWith("application/problem+json");
        boolean hasBody = !c.req().method.equals("HEAD");
        if (problemJson && hasBody) {
            JsonNode body = json(text);
            if (body == null || !body.isObject()) {
                problems.add("an application/problem+json body that is not a JSON object");
            } else {
                String detail = body.path("detail").asText("");
                if (detail.isBlank()) {
                    problems.add(body.path("title").asText("").isBlank() ? "a problem without detail or title"
                            : "a problem without a detail saying what to fix");
                }
                if (e.wantedField() != null && reply.status == 400 && !body.path("field").asText("").startsWith(e.wantedField())) {
                    problems.add("the problem names field '" + body.path("field").asText("(none)") + "', expected '" + e.wantedField() + "'");
                }
                if (e.notFor() != null && detail.contains(e.notFor())) {
                    problems.add("refused only for the sentinel dependency: the input under test itself was accepted");
                }
            }
        } else if (e.wantsProblem() && hasBody && Set.of(400, 401, 403, 404).contains(reply.status)) {
            problems.add("expected an application/problem+json answer, got Content-Type " + type);
        }
        if (e.wantsText() && hasBody && reply.status >= 400 && reply.status < 500
                && (!"text/plain".equals(type) || text.isBlank())) {
            problems.add("expected a text/plain reason, got Content-Type " + type + (text.isBlank() ? " and no reason" : ""));
        }
        log(c.name(), reply.status == 0 ? "closed (" + reply.error + ")" : String.valueOf(reply.status), reply.millis, text, problems);
        if (!problems.isEmpty()) {
            fail(String.join("; ", problems) + " | status " + reply.status + (reply.error == null ? "" : " (" + reply.error + ")")
                    + " | body: " + abbreviate(text, 300));
        }
    }

    private static void log(String name, String outcome, long millis, String body, List<String> problems) {
        LOG.add((problems.isEmpty() ? "ok" : "FAIL") + "\t" + name.replace('\t', ' ') + "\t" + outcome + "\t" + millis + " ms\t"
                + String.join("; ", problems) + "\t" + abbreviate(body, 300).replace('\t', ' '));
    }

    // ---------------------------------------------------------------------------------------------
    // Raw HTTP/1.1 over a socket: no client-side validation, normalisation or header rules
    // ---------------------------------------------------------------------------------------------

    /** A request as written on the wire. */
    private static final class Req {
        final String method;
        final String target;
        final List<String[]> headers = new ArrayList<>();
        byte[] body;
        boolean chunked;
        boolean lengthGiven;
        String raw;

        private Req(String method, String target) {
            this.method = method;
            this.target = target;
        }

        static Req of(String method, String target) {
            return new Req(method, target);
        }

        /** A request written exactly as given ({host} is replaced). */
        static Req raw(String text) {
            Req req = new Req(text.split(" ", 2)[0], "");
            req.raw = text;
            return req;
        }

        Req copy() {
            Req copy = new Req(method, target);
            headers.forEach(h -> copy.headers.add(h.clone()));
            copy.body = body;
            copy.chunked = chunked;
            copy.lengthGiven = lengthGiven;
            copy.raw = raw;
            return copy;
        }

        Req auth() {
            return header("Authorization", "Bearer " + token);
        }

        /** The local operator token: store-wide endpoints refuse any other before looking at the input. */
        Req operator() {
            return header("Authorization", "Bearer " + operatorToken);
        }

        /** The gateway's service token, as replay-service's internal API needs it (see Services#request). */
        Req service() {
            return header(StreamTickets.SERVICE_HEADER, "{service-token}");
        }

        Req header(String name, String value) {
            headers.add(new String[] {name, value});
            if (name.equalsIgnoreCase("Content-Length")) {
                lengthGiven = true;
            }
            return this;
        }

        /** A body with its Content-Type (none when null) and a Content-Length. */
        Req body(String contentType, byte[] bytes) {
            if (contentType != null) {
                header("Content-Type", contentType);
            }
            body = bytes;
            return this;
        }

        /** Body bytes sent as they are, without a Content-Length of ours. */
        Req rawBody(byte[] bytes) {
            body = bytes;
            lengthGiven = true;
            return this;
        }

        Req chunked() {
            chunked = true;
            return this;
        }

        byte[] head(int port) {
            if (raw != null) {
                return raw.replace("{host}", "127.0.0.1:" + port).getBytes(StandardCharsets.ISO_8859_1);
            }
            StringBuilder head = new StringBuilder(method).append(' ').append(resolve(target)).append(" HTTP/1.1\r\n");
            head.append("Host: 127.0.0.1:").append(port).append("\r\n");
            for (String[] h : headers) {
                head.append(h[0]).append(": ").append(resolve(h[1])).append("\r\n");
            }
            if (chunked) {
                head.append("Transfer-Encoding: chunked\r\n");
            } else if (body != null && !lengthGiven) {
                head.append("Content-Length: ").append(body.length).append("\r\n");
            }
            head.append("Connection: close\r\n\r\n");
            return head.toString().getBytes(StandardCharsets.UTF_8);
        }

        byte[] wireBody() {
            if (body == null) {
                return new byte[0];
            }
            if (!chunked) {
                return body;
            }
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (int off = 0; off < body.length; off += 8192) {
                int n = Math.min(8192, body.length - off);
                out.writeBytes(bytes(Integer.toHexString(n) + "\r\n"));
                out.write(body, off, n);
                out.writeBytes(bytes("\r\n"));
            }
            out.writeBytes(bytes("0\r\n\r\n"));
            return out.toByteArray();
        }
    }

    /** An answer read off the wire (status 0: none, see {@link #error}). */
    private static final class Reply {
        final String method;
        int status;
        final Map<String, String> headers = new LinkedHashMap<>();
        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        String error;
        long millis;

        Reply(String method) {
            this.method = method;
        }

        String header(String name) {
            return headers.get(name.toLowerCase(Locale.ROOT));
        }

        String text() {
            return body.toString(StandardCharsets.UTF_8);
        }
    }

    private static Reply send(int port, Req req) {
        long t0 = System.nanoTime();
        Reply reply = new Reply(req.method);
        try (Socket socket = new Socket()) {
            socket.connect(new InetSocketAddress("127.0.0.1", port), 3000);
            socket.setSoTimeout((int) READ_TIMEOUT.toMillis());
            OutputStream out = socket.getOutputStream();
            InputStream in = socket.getInputStream();
            try {
                out.write(req.head(port));
                out.flush();
                byte[] body = req.wireBody();
                if (body.length > 16 * 1024) {
                    awaitEarlyAnswer(in, Duration.ofMillis(300)); // e.g. a 413 for the declared length
                }
                for (int off = 0; off < body.length && in.available() == 0; off += 8192) {
                    out.write(body, off, Math.min(8192, body.length - off));
                }
                out.flush();
            } catch (IOException writeFailed) {
                reply.error = "write: " + writeFailed.getMessage();
            }
            readAnswer(in, reply);
        } catch (SocketTimeoutException e) {
            reply.error = "no answer within " + READ_TIMEOUT.toSeconds() + " s";
        } catch (IOException e) {
            reply.error = e.toString();
        }
        reply.millis = (System.nanoTime() - t0) / 1_000_000;
        return reply;
    }

    private static void sleep(Duration duration) {
        try {
            Thread.sleep(duration.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitEarlyAnswer(InputStream in, Duration max) throws IOException {
        long deadline = System.nanoTime() + max.toNanos();
        while (in.available() == 0 && System.nanoTime() < deadline) {
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /** Reads one response (skipping 1xx) into {@code reply}; EOF before a status line leaves status 0. */
    private static void readAnswer(InputStream in, Reply reply) throws IOException {
        while (true) {
            String head = readHead(in);
            if (head == null) {
                if (reply.error == null) {
                    reply.error = "connection closed without an answer";
                }
                return;
            }
            String[] lines = head.split("\r?\n");
            String[] statusLine = lines[0].split(" ", 3);
            if (statusLine.length < 2 || !statusLine[0].startsWith("HTTP/")) {
                reply.error = "not an HTTP answer: " + abbreviate(head, 80);
                return;
            }
            reply.status = Integer.parseInt(statusLine[1].trim());
            reply.headers.clear();
            for (int i = 1; i < lines.length; i++) {
                int colon = lines[i].indexOf(':');
                if (colon > 0) {
                    reply.headers.put(lines[i].substring(0, colon).trim().toLowerCase(Locale.ROOT), lines[i].substring(colon + 1).trim());
                }
            }
            if (reply.status >= 100 && reply.status < 200 && reply.status != 101) {
                continue;
            }
            break;
        }
        if (reply.method.equals("HEAD") || reply.status == 204 || reply.status == 304 || reply.status == 101) {
            return;
        }
        String encoding = reply.header("transfer-encoding");
        String length = reply.header("content-length");
        if (encoding != null && encoding.toLowerCase(Locale.ROOT).contains("chunked")) {
            while (true) {
                String sizeLine = readLine(in);
                if (sizeLine == null) {
                    return;
                }
                int size = Integer.parseInt(sizeLine.split(";")[0].trim(), 16);
                if (size == 0) {
                    return;
                }
                copy(in, reply.body, size);
                readLine(in);
            }
        } else if (length != null) {
            copy(in, reply.body, Math.min(Long.parseLong(length.trim()), 1 << 20));
        } else {
            copy(in, reply.body, 1 << 20);
        }
    }

    private static String readHead(InputStream in) throws IOException {
        ByteArrayOutputStream head = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0) {
            head.write(b);
            byte[] h = head.toByteArray();
            int n = h.length;
            if (n >= 4 && h[n - 4] == '\r' && h[n - 3] == '\n' && h[n - 2] == '\r' && h[n - 1] == '\n'
                    || n >= 2 && h[n - 2] == '\n' && h[n - 1] == '\n') {
                return head.toString(StandardCharsets.ISO_8859_1);
            }
            if (n > 256 * 1024) {
                break;
            }
        }
        return head.size() == 0 ? null : head.toString(StandardCharsets.ISO_8859_1);
    }

    private static String readLine(InputStream in) throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        int b;
        while ((b = in.read()) >= 0 && b != '\n') {
            if (b != '\r') {
                line.write(b);
            }
        }
        return b < 0 && line.size() == 0 ? null : line.toString(StandardCharsets.ISO_8859_1);
    }

    private static void copy(InputStream in, ByteArrayOutputStream out, long max) throws IOException {
        byte[] buffer = new byte[8192];
        long left = max;
        int n;
        while (left > 0 && (n = in.read(buffer, 0, (int) Math.min(buffer.length, left))) > 0) {
            out.write(buffer, 0, n);
            left -= n;
        }
    }

    // ---------------------------------------------------------------------------------------------
    // WebSockets
    // ---------------------------------------------------------------------------------------------

    /** How a WebSocket attempt ended: refused at the handshake, closed with a code, or neither. */
    private record WsOutcome(int handshakeStatus, int closeCode, String reason, String error) {
    }

    private static DynamicTest ws(String path, Set<Integer> codes, Consumer<WebSocket> afterOpen) {
        String name = "WS " + show(path) + (afterOpen == null ? "" : " (then a broken frame sequence)") + " -> " + sorted(codes);
        return dynamicTest(name, () -> {
            long t0 = System.nanoTime();
            WsOutcome outcome = openWs(resolve(path), afterOpen);
            INPUTS.incrementAndGet();
            List<String> problems = new ArrayList<>();
            if (outcome.handshakeStatus() >= 500) {
                problems.add("handshake answered " + outcome.handshakeStatus());
                SERVER_ERRORS.add(name + " -> handshake " + outcome.handshakeStatus());
            } else if (outcome.handshakeStatus() >= 400) {
                // Refused before it was a socket: a 4xx is fine.
            } else if (outcome.closeCode() == 1011) {
                problems.add("closed with 1011 (server error): " + outcome.reason());
                SERVER_ERRORS.add(name + " -> close 1011 " + outcome.reason());
            } else if (outcome.closeCode() < 0) {
                problems.add("not closed with a code (" + outcome.error() + ")");
            } else if (!codes.contains(outcome.closeCode())) {
                problems.add("closed with " + outcome.closeCode() + " (" + outcome.reason() + "), expected " + sorted(codes));
            }
            if (outcome.reason() != null && STACK_TRACE.matcher(outcome.reason()).find()) {
                problems.add("the close reason holds a stack trace");
            }
            String result = outcome.handshakeStatus() > 0 ? "handshake " + outcome.handshakeStatus()
                    : outcome.closeCode() >= 0 ? "close " + outcome.closeCode() + " " + outcome.reason() : String.valueOf(outcome.error());
            log(name, result, (System.nanoTime() - t0) / 1_000_000, "", problems);
            if (!problems.isEmpty()) {
                fail(String.join("; ", problems));
            }
        });
    }

    /** A JDK WebSocket client test, or a raw one when the JDK will not even build the URI (bad escapes). */
    private static DynamicTest wsOrRaw(String path, Set<Integer> codes) {
        try {
            URI.create("ws://127.0.0.1" + PLACEHOLDER.matcher(path).replaceAll("x"));
            return ws(path, codes, null);
        } catch (IllegalArgumentException badUri) {
            return rawWs(path, null, new byte[0], codes, false);
        }
    }

    private static WsOutcome openWs(String path, Consumer<WebSocket> afterOpen) {
        CompletableFuture<WsOutcome> closed = new CompletableFuture<>();
        WebSocket.Listener listener = new WebSocket.Listener() {
            @Override
            public void onOpen(WebSocket socket) {
                socket.request(Long.MAX_VALUE);
            }

            @Override
            public CompletionStage<?> onClose(WebSocket socket, int statusCode, String reason) {
                closed.complete(new WsOutcome(0, statusCode, reason, null));
                return null;
            }

            @Override
            public void onError(WebSocket socket, Throwable error) {
                closed.complete(new WsOutcome(0, -1, null, error.toString()));
            }
        };
        WebSocket socket = null;
        try {
            socket = WS_CLIENT.newWebSocketBuilder().connectTimeout(Duration.ofSeconds(5)).header("Authorization", "Bearer " + token)
                    .buildAsync(URI.create("ws://127.0.0.1:" + REPLAY + path), listener).get(10, TimeUnit.SECONDS);
            if (afterOpen != null) {
                try {
                    afterOpen.accept(socket);
                } catch (RuntimeException alreadyClosed) {
                    // The server may have closed it first; its close code is what counts.
                }
            }
            return closed.get(WS_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof WebSocketHandshakeException refused) {
                return new WsOutcome(refused.getResponse().statusCode(), -1, null, null);
            }
            return new WsOutcome(0, -1, null, String.valueOf(e.getCause()));
        } catch (TimeoutException e) {
            return new WsOutcome(0, -1, null, "still open after " + WS_TIMEOUT.toSeconds() + " s");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return new WsOutcome(0, -1, null, "interrupted");
        } finally {
            if (socket != null) {
                socket.abort();
            }
        }
    }

    /** A raw WebSocket: handshake, then {@code frames} written as they are; the server's close code is read back. */
    private static DynamicTest rawWs(String path, String what, byte[] frames, Set<Integer> codes, boolean mayIgnore) {
        String name = "raw WS " + show(path) + (what == null ? "" : " then " + what) + " -> " + sorted(codes);
        return dynamicTest(name, () -> {
            long t0 = System.nanoTime();
            INPUTS.incrementAndGet();
            String outcome;
            List<String> problems = new ArrayList<>();
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", REPLAY), 3000);
                socket.setSoTimeout((int) WS_TIMEOUT.toMillis());
                OutputStream out = socket.getOutputStream();
                InputStream in = socket.getInputStream();
                out.write(bytes("GET " + resolve(path) + " HTTP/1.1\r\nHost: 127.0.0.1:" + REPLAY + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\nAuthorization: Bearer " + token + "\r\n\r\n"));
                out.flush();
                String head = readHead(in);
                int status = head == null ? 0 : Integer.parseInt(head.split(" ", 3)[1]);
                if (status != 101) {
                    outcome = "handshake " + status;
                    if (status >= 500 || status == 0) {
                        problems.add("handshake answered " + status);
                        if (status >= 500) {
                            SERVER_ERRORS.add(name + " -> handshake " + status);
                        }
                    }
                } else {
                    try {
                        out.write(frames);
                        out.flush();
                    } catch (IOException closedFirst) {
                        // The server may already have closed; read what it said.
                    }
                    int code;
                    try {
                        code = readCloseCode(in);
                    } catch (SocketTimeoutException e) {
                        code = -2;
                    } catch (IOException e) {
                        code = -1;
                    }
                    outcome = code == -2 ? "still open after " + WS_TIMEOUT.toSeconds() + " s" : code == -1 ? "closed without a close frame" : "close " + code;
                    if (code == 1011) {
                        problems.add("closed with 1011 (server error)");
                        SERVER_ERRORS.add(name + " -> close 1011");
                    } else if (code == -2 && !mayIgnore) {
                        problems.add("the server ignored the protocol violation (socket still open after " + WS_TIMEOUT.toSeconds() + " s)");
                    } else if (code >= 0 && !codes.contains(code)) {
                        problems.add("closed with " + code + ", expected " + sorted(codes));
                    }
                }
            }
            log(name, outcome, (System.nanoTime() - t0) / 1_000_000, "", problems);
            if (!problems.isEmpty()) {
                fail(String.join("; ", problems) + " (" + outcome + ")");
            }
        });
    }

    /** Reads server frames until a close frame (its code, 1005 when it has none) or EOF (-1). */
    private static int readCloseCode(InputStream in) throws IOException {
        while (true) {
            int b0 = in.read();
            int b1 = in.read();
            if (b0 < 0 || b1 < 0) {
                return -1;
            }
            long length = b1 & 0x7F;
            if (length == 126) {
                length = (in.read() << 8) | in.read();
            } else if (length == 127) {
                length = 0;
                for (int i = 0; i < 8; i++) {
                    length = (length << 8) | in.read();
                }
            }
            byte[] payload = in.readNBytes((int) Math.min(length, 1 << 20));
            if ((b0 & 0x0F) == 0x8) {
                return payload.length >= 2 ? ((payload[0] & 0xFF) << 8) | (payload[1] & 0xFF) : 1005;
            }
        }
    }

    private static byte[] maskedFrame(int firstByte, byte[] payload) {
        byte[] mask = {0x11, 0x22, 0x33, 0x44};
        ByteArrayOutputStream frame = new ByteArrayOutputStream();
        frame.write(firstByte);
        if (payload.length < 126) {
            frame.write(0x80 | payload.length);
        } else {
            frame.write(0x80 | 126);
            frame.write(payload.length >> 8);
            frame.write(payload.length & 0xFF);
        }
        frame.writeBytes(mask);
        for (int i = 0; i < payload.length; i++) {
            frame.write(payload[i] ^ mask[i % 4]);
        }
        return frame.toByteArray();
    }

    // ---------------------------------------------------------------------------------------------
    // Slow-loris
    // ---------------------------------------------------------------------------------------------

    /** A request that declares a 1000-byte body and sends 10 bytes, then waits for the server in the background. */
    private static final class SlowLoris {
        final String name;
        final CompletableFuture<String> outcome = new CompletableFuture<>();
        volatile int status;
        volatile long doneMillis = -1;
        final long begun = System.nanoTime();

        private SlowLoris(String name) {
            this.name = name;
        }

        static SlowLoris start(String name, int port, String method, String path, String type, String tenBytes) {
            SlowLoris loris = new SlowLoris(name);
            Thread thread = new Thread(() -> loris.run(port, method, path, type, tenBytes), "slow-loris " + name);
            thread.setDaemon(true);
            thread.start();
            return loris;
        }

        private void run(int port, String method, String path, String type, String tenBytes) {
            outcome.whenComplete((r, e) -> doneMillis = (System.nanoTime() - begun) / 1_000_000);
            try (Socket socket = new Socket()) {
                socket.connect(new InetSocketAddress("127.0.0.1", port), 3000);
                socket.setSoTimeout((int) SLOW_LORIS_BUDGET.toMillis());
                OutputStream out = socket.getOutputStream();
                out.write(bytes(method + " " + path + " HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\nAuthorization: Bearer " + token
                        + "\r\nContent-Type: " + type + "\r\nContent-Length: 1000\r\n\r\n" + tenBytes));
                out.flush();
                Reply reply = new Reply(method);
                try {
                    readAnswer(socket.getInputStream(), reply);
                } catch (SocketTimeoutException e) {
                    outcome.complete("still waiting after " + SLOW_LORIS_BUDGET.toSeconds() + " s");
                    return;
                } catch (IOException e) {
                    outcome.complete("connection closed by the server (" + e.getMessage() + ") after " + elapsed() + " s");
                    return;
                }
                status = reply.status;
                outcome.complete(reply.status == 0 ? "connection closed by the server after " + elapsed() + " s"
                        : "answered " + reply.status + " after " + elapsed() + " s: " + abbreviate(reply.text(), 300));
            } catch (IOException e) {
                outcome.complete("could not send: " + e);
            }
        }

        private long elapsed() {
            return (System.nanoTime() - begun) / 1_000_000_000L;
        }

        void check() throws Exception {
            long left = SLOW_LORIS_BUDGET.toNanos() + Duration.ofSeconds(3).toNanos() - (System.nanoTime() - started);
            String result;
            try {
                result = outcome.get(Math.max(left, 1), TimeUnit.NANOSECONDS);
            } catch (TimeoutException e) {
                result = "still waiting after " + SLOW_LORIS_BUDGET.toSeconds() + " s";
            }
            INPUTS.incrementAndGet();
            List<String> problems = new ArrayList<>();
            if (status >= 500) {
                problems.add("server error " + status);
                SERVER_ERRORS.add("slow-loris " + name + " -> " + status);
            } else if (status > 0 && status < 400) {
                problems.add("accepted a body it never received: " + status);
            }
            if (result.startsWith("still waiting") && !name.startsWith("image-cache")) {
                // gateway and artifact close a connection idle for 60 s (quarkus.http.idle-timeout).
                problems.add("a stalled body was not cut off");
            } else if (result.startsWith("still waiting")) {
                // image-cache keeps connections open through synchronous builds of minutes, so it has no idle timeout.
                // The server has no timeout for a body that stops arriving, or it is longer than this test can wait.
                System.out.println("NOTE slow-loris " + name + ": " + result + " (the test cannot wait longer; only 'no 5xx' asserted)");
            }
            if (result.startsWith("could not send")) {
                problems.add(result);
            }
            log("slow-loris " + name, result, doneMillis >= 0 ? doneMillis : elapsed() * 1000, "", problems);
            if (!problems.isEmpty()) {
                fail(String.join("; ", problems) + " (" + result + ")");
            }
        }
    }

    // ---------------------------------------------------------------------------------------------
    // Small helpers
    // ---------------------------------------------------------------------------------------------

    private static byte[] bytes(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] part : parts) {
            out.writeBytes(part);
        }
        return out.toByteArray();
    }

    /** A JSON string literal. */
    private static String q(String value) {
        StringBuilder out = new StringBuilder("\"");
        for (char c : value.toCharArray()) {
            switch (c) {
                case '"' -> out.append("\\\"");
                case '\\' -> out.append("\\\\");
                default -> {
                    if (c < 0x20) {
                        out.append(String.format("\\u%04x", (int) c));
                    } else {
                        out.append(c);
                    }
                }
            }
        }
        return out.append('"').toString();
    }

    /** A JSON object of raw JSON values. */
    private static String json(Map<String, String> raw) {
        return raw.entrySet().stream().map(e -> q(e.getKey()) + ":" + e.getValue()).collect(Collectors.joining(",", "{", "}"));
    }

    private static JsonNode json(String text) {
        try {
            return Services.JSON.readTree(text);
        } catch (IOException e) {
            return null;
        }
    }

    /** {@code text} with its placeholders filled in from the stream secret the local services share (see Services#tickets). */
    private static String resolve(String text) {
        if (text.indexOf('{') < 0) {
            return text;
        }
        Matcher m = PLACEHOLDER.matcher(text);
        StringBuilder out = new StringBuilder();
        while (m.find()) {
            String p = m.group(1);
            StreamTickets tickets = Services.tickets();
            String value;
            if (p.equals("service-token")) {
                value = tickets.serviceToken();
            } else if (p.equals("service-token-altered")) {
                String t = tickets.serviceToken();
                value = (t.charAt(0) == '0' ? "1" : "0") + t.substring(1);
            } else {
                String subject = p.substring(2);
                Instant expiry = p.charAt(0) == 'X' ? Instant.now().minusSeconds(120) : Instant.now().plusSeconds(600);
                value = tickets.issue(TENANT, subject, expiry);
                if (p.charAt(0) == 'F') {
                    int dot = value.indexOf('.');
                    value = value.substring(0, dot + 1) + (value.charAt(dot + 1) == 'A' ? 'B' : 'A') + value.substring(dot + 2);
                }
            }
            m.appendReplacement(out, Matcher.quoteReplacement(value));
        }
        m.appendTail(out);
        return out.toString();
    }

    /** A printable, short form of an input for a test name. */
    private static String show(String value) {
        StringBuilder out = new StringBuilder();
        value = value.replace(SENTINEL_DEP, "<sentinel dependency>").replaceAll("\\{T:[^}]*\\}", "<ticket>").replaceAll("\\{X:[^}]*\\}", "<expired ticket>")
                .replaceAll("\\{F:[^}]*\\}", "<forged ticket>").replace("{service-token-altered}", "<altered service token>")
                .replace("{service-token}", "<service token>");
        String shown = value;
        String suffix = "";
        if (value.length() > 60) {
            // "aaaa…" as a×N where a run dominates, else the head and the length.
            Matcher run = Pattern.compile("(.)\\1{40,}").matcher(value);
            if (run.find()) {
                shown = value.substring(0, run.start()) + run.group(1) + "×" + run.group().length() + value.substring(run.end());
            }
            if (shown.length() > 60) {
                suffix = "…(" + value.length() + " chars)";
                shown = shown.substring(0, 50);
            }
        }
        for (char c : shown.toCharArray()) {
            if (c < 0x20 || c == 0x7f || c > 0x7e && c != '×' && c != 'ü' && c != 'Ä' && c != 'é') {
                out.append(String.format("\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        return out + suffix;
    }

    private static String abbreviate(String text, int max) {
        String flat = text.replace("\r", "\\r").replace("\n", "\\n");
        return flat.length() > max ? flat.substring(0, max) + "…" : flat;
    }

    private static List<Integer> sorted(Set<Integer> codes) {
        return codes.stream().sorted().toList();
    }

    private static String randomHex(int length) {
        byte[] random = new byte[(length + 1) / 2];
        new Random().nextBytes(random);
        return HexFormat.of().formatHex(random).substring(0, length);
    }

    private static String sha256(String text) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes(text)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
