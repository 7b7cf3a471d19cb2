import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Seed 004's target, measured through the running stack: the build step of a Maven project (one
 * dependency from Maven Central, plus Maven's own plugins) and of an npm project (one package from
 * the npm registry) on a dependency-cache miss (empty HOME, everything downloaded, then saved) and
 * on a hit (another commit, the same lockfile: restored, nothing downloaded). Each round is a new
 * repository, so its first build is a real miss. Step times are the runner's own (step-finished).
 */
public class DepsBench {

    public static void main(String[] args) throws Exception {
        ReplayBench.gateway = args[0];
        ReplayBench.token = args[1];
        Path work = Path.of(args[2]);
        Path results = Path.of(args[3]);
        int rounds = Integer.parseInt(System.getenv().getOrDefault("ROUNDS", "3"));
        StringBuilder json = new StringBuilder("{\"rounds\":" + rounds);
        for (String kind : List.of("maven", "npm")) {
            List<Double> miss = new ArrayList<>();
            List<Double> hit = new ArrayList<>();
            List<Double> restore = new ArrayList<>();
            List<Double> save = new ArrayList<>();
            long bytes = 0;
            for (int round = 0; round < rounds; round++) {
                Path dir = work.resolve(kind + "-" + round);
                String repo = project(dir, kind);
                Build first = build(repo, "miss");
                commitSource(dir, "second");
                Build second = build(repo, "hit");
                miss.add((double) first.stepMs);
                save.add((double) first.depMs);
                hit.add((double) second.stepMs);
                restore.add((double) second.depMs);
                bytes = second.depBytes;
                System.out.printf(Locale.ROOT, "deps %s round %d: miss %d ms (save %d ms), hit %d ms (restore %d ms, %d bytes)%n", kind, round,
                        first.stepMs, first.depMs, second.stepMs, second.depMs, second.depBytes);
            }
            double reduction = 100 * (1 - median(hit) / median(miss));
            System.out.printf(Locale.ROOT, "deps %s: build step on a miss p50 %.0f ms, on a hit p50 %.0f ms: %.0f %% less (restore p50 %.0f ms,"
                    + " save p50 %.0f ms, %d bytes restored)%n", kind, median(miss), median(hit), reduction, median(restore), median(save), bytes);
            json.append(String.format(Locale.ROOT, ",\"%s\":{\"missStepMs\":%s,\"hitStepMs\":%s,\"missStepP50\":%.0f,\"hitStepP50\":%.0f,"
                    + "\"reductionPercent\":%.1f,\"restoreMsP50\":%.0f,\"saveMsP50\":%.0f,\"restoredBytes\":%d}", kind, miss, hit, median(miss),
                    median(hit), reduction, median(restore), median(save), bytes));
        }
        Files.writeString(results, json.append("}\n").toString());
    }

    record Build(long stepMs, String depResult, long depMs, long depBytes) {
    }

    static Build build(String repo, String expected) throws Exception {
        String stream = ReplayBench.submit(repo, false, expected);
        ReplayBench.awaitRecorded(stream);
        Matcher m = Pattern.compile("^ws(s?)://([^/]+)/").matcher(stream);
        ReplayBench.check(m.find(), "stream " + stream);
        String body = ReplayBench.HTTP.send(HttpRequest.newBuilder(URI.create("http" + m.group(1) + "://" + m.group(2) + "/api/v1/recordings/"
                        + ReplayBench.lastCacheKey + "/messages")).header("X-Reprise-Service", System.getProperty("reprise.service-token", "")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        long step = -1;
        String result = null;
        long ms = 0;
        long bytes = 0;
        for (String line : body.split("\n")) {
            if (line.contains("\"dev.reprise.build.step-finished.v1\"") && line.contains("\"name\":\"build\"")) {
                step = number(line, "durationMs");
            } else if (line.contains("\"dev.reprise.build.dependency-cache.v1\"")) {
                Matcher r = Pattern.compile("\"result\":\"([a-z]+)\"").matcher(line);
                r.find();
                if (result == null || r.group(1).equals("saved")) {
                    ms = number(line, "millis");
                    bytes = number(line, "bytes");
                }
                result = result == null ? r.group(1) : result;
            } else if (line.contains("\"dev.reprise.build.completed.v1\"")) {
                ReplayBench.check(line.contains("\"status\":\"SUCCESS\""), "build failed: " + line);
            }
        }
        ReplayBench.check(expected.equals(result), "expected a dependency-cache " + expected + ", was " + result);
        return new Build(step, result, ms, bytes);
    }

    static long number(String json, String field) {
        Matcher m = Pattern.compile("\"" + field + "\":(\\d+)").matcher(json);
        return m.find() ? Long.parseLong(m.group(1)) : -1;
    }

    static String project(Path dir, String kind) throws Exception {
        Files.createDirectories(dir);
        String nonce = Long.toString(System.nanoTime());
        if (kind.equals("maven")) {
            Files.writeString(dir.resolve("pom.xml"), """
                    <project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
                      <groupId>dev.reprise.bench</groupId><artifactId>deps-bench</artifactId><version>1.0</version>
                      <properties><maven.compiler.source>17</maven.compiler.source><maven.compiler.target>17</maven.compiler.target>
                        <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding></properties>
                      <dependencies><dependency><groupId>com.google.code.findbugs</groupId><artifactId>jsr305</artifactId>
                        <version>3.0.2</version></dependency></dependencies>
                    </project>
                    """);
            Files.createDirectories(dir.resolve("src/main/java/demo"));
            Files.writeString(dir.resolve("build.sh"), "#!/usr/bin/env bash\nset -e\nmvn -B -ntp compile\n");
        } else {
            Files.writeString(dir.resolve("package.json"), "{\"name\":\"reprise-npm-demo\",\"version\":\"1.0.0\",\"private\":true,"
                    + "\"dependencies\":{\"is-number\":\"7.0.0\"}}\n");
            Files.copy(Path.of(System.getProperty("reprise.root", ".")).resolve("e2e/src/test/resources/dependency-cache/package-lock-1.json"),
                    dir.resolve("package-lock.json"));
            Files.writeString(dir.resolve("build.sh"), "#!/usr/bin/env bash\nset -e\nnpm ci --prefer-offline --no-audit --no-fund\n");
        }
        dir.resolve("build.sh").toFile().setExecutable(true);
        ReplayBench.run(dir, "git", "init", "-q", "-b", "main");
        commitSource(dir, "first " + nonce);
        return "file://" + dir.toAbsolutePath();
    }

    static void commitSource(Path dir, String text) throws Exception {
        Path source = dir.resolve(Files.exists(dir.resolve("pom.xml")) ? "src/main/java/demo/App.java" : "index.js");
        Files.writeString(source, source.toString().endsWith(".java") ? "package demo; class App { String s = \"" + text + " "
                + System.nanoTime() + "\"; }\n" : "console.log('" + text + " " + System.nanoTime() + "');\n");
        ReplayBench.run(dir, "git", "add", "-A");
        ReplayBench.run(dir, "git", "-c", "user.email=bench@reprise.dev", "-c", "user.name=bench", "commit", "-q", "-m", text);
    }

    static double median(List<Double> values) {
        List<Double> sorted = new ArrayList<>(values);
        sorted.sort(null);
        return sorted.isEmpty() ? 0 : sorted.get(sorted.size() / 2);
    }
}
