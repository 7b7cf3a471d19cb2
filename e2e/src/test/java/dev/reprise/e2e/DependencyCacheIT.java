package dev.reprise.e2e;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import dev.reprise.testing.TestGitRepo;
import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Seed 004's promise end to end, through the gateway, with the real package registries: a build's
 * dependencies are downloaded once, saved by the runner with their provenance, and restored into
 * the next build of another commit with the same lockfile, whose tool then downloads nothing (as
 * the tool itself reports it); a changed lockfile restores the newest entry of the repository and
 * toolchain and downloads only what changed.
 */
class DependencyCacheIT {

    private static final String TYPE = "\"type\":\"dev.reprise.build.dependency-cache.v1\"";
    /** In every tree: a tree built before (an earlier run) would be a task-cache hit, and its build step would not run. */
    private static final String RUN = Long.toString(System.nanoTime());

    @Test
    void aMavenProjectDownloadsFromMavenCentralOnceAndItsNextCommitNothing() throws Exception {
        TestGitRepo repo = TestGitRepo.create();
        String a = commit(repo, Map.of("pom.xml", pom("<dependency><groupId>javax.inject</groupId><artifactId>javax.inject</artifactId>"
                + "<version>1</version></dependency>"), "src/main/java/demo/App.java", app("one")), "App, first version");
        Build miss = build(repo, "mvn -B compile");
        assertThat(miss.results()).containsExactly("miss", "saved");
        assertThat(miss.output()).contains("BUILD SUCCESS").contains("Downloading from central").contains("javax.inject-1.jar");

        commit(repo, Map.of("src/main/java/demo/App.java", app("two")), "App, second version");
        Build hit = build(repo, "mvn -B compile");
        assertThat(hit.results()).containsExactly("hit");
        assertThat(hit.output()).contains("BUILD SUCCESS").doesNotContain("Downloading from").doesNotContain("Downloaded from");
        assertThat(hit.stepMs()).as("the build step without downloads").isLessThan(miss.stepMs());
        assertThat(hit.event("hit").path("builtFrom").asText()).contains("commit " + a.substring(0, 12), "'App, first version'", "on main",
                "build " + miss.id(), "java ", "mvn ");

        commit(repo, Map.of("pom.xml", pom("<dependency><groupId>javax.inject</groupId><artifactId>javax.inject</artifactId>"
                + "<version>1</version></dependency><dependency><groupId>com.google.code.findbugs</groupId><artifactId>jsr305</artifactId>"
                + "<version>3.0.2</version></dependency>")), "Add jsr305");
        Build partial = build(repo, "mvn -B compile");
        assertThat(partial.results()).containsExactly("partial", "saved");
        assertThat(partial.event("partial").path("restoredKey").asText()).endsWith(miss.event("saved").path("key").asText());
        assertThat(partial.output()).as("only the new dependency is fetched").contains("Downloaded from central").contains("jsr305-3.0.2.jar")
                .doesNotContainPattern("Download(ing|ed) from central: \\S*maven-compiler-plugin")
                .doesNotContainPattern("Download(ing|ed) from central: \\S*javax.inject-1.jar");

        // The saved entry's provenance, as the tenant's API shows it.
        JsonNode entries = entries(repo);
        assertThat(entries.size()).isEqualTo(2);
        JsonNode first = entries.get(1);
        assertThat(first.path("provenance").path("commit").asText()).isEqualTo(a);
        assertThat(first.path("provenance").path("commitMessage").asText()).isEqualTo("App, first version");
        assertThat(first.path("provenance").path("branch").asText()).isEqualTo("main");
        assertThat(first.path("provenance").path("buildId").asText()).isEqualTo(miss.id());
        assertThat(first.path("toolchain").path("java").asText()).matches("\\d+[.\\d]*.*");
        assertThat(first.path("toolchain").path("mvn").asText()).matches("3\\.\\d+\\.\\d+");
        assertThat(first.path("accessCount").asLong()).as("restored by the hit and the partial").isGreaterThanOrEqualTo(1);
        assertThat(first.path("lockfileHash").asText()).matches("[0-9a-f]{64}").isNotEqualTo(entries.get(0).path("lockfileHash").asText());
    }

    @Test
    void anNpmProjectFetchesFromTheRegistryOnceAndItsNextCommitNothing() throws Exception {
        TestGitRepo repo = TestGitRepo.create();
        commit(repo, Map.of("package.json", packageJson("\"is-number\": \"7.0.0\""), "package-lock.json", resource("package-lock-1.json"),
                "index.js", "console.log('one');\n"), "first");
        String npm = "npm ci --prefer-offline --loglevel=http --no-audit --no-fund";
        Build miss = build(repo, npm);
        assertThat(miss.results()).containsExactly("miss", "saved");
        assertThat(miss.output()).contains("http fetch GET 200 https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz")
                .contains("(cache miss)");

        commit(repo, Map.of("index.js", "console.log('two');\n"), "second");
        Build hit = build(repo, npm);
        assertThat(hit.results()).containsExactly("hit");
        // npm logs each request with where its answer came from: "cache miss", "cache revalidated" and "cache updated" went
        // to the registry; "cache hit" and "cache stale" (--prefer-offline) were answered from the restored cache.
        assertThat(hit.output()).as("every package from the restored cache").contains("added 1 package")
                .doesNotContain("(cache miss)").doesNotContain("(cache revalidated)").doesNotContain("(cache updated)");
        assertThat(hit.event("hit").path("paths").toString()).contains(".npm/_cacache");

        commit(repo, Map.of("package.json", packageJson("\"is-number\": \"7.0.0\", \"left-pad\": \"1.3.0\""), "package-lock.json",
                resource("package-lock-2.json")), "add left-pad");
        Build partial = build(repo, npm);
        assertThat(partial.results()).containsExactly("partial", "saved");
        assertThat(partial.output()).containsPattern("http fetch GET 200 https://registry.npmjs.org/left-pad/-/left-pad-1.3.0.tgz .*\\(cache miss\\)")
                .doesNotContainPattern("https://registry.npmjs.org/is-number/-/is-number-7.0.0.tgz .*\\(cache (miss|updated|revalidated)\\)");
    }

    @Test
    void aFreshBuildRestoresNothing() throws Exception {
        TestGitRepo repo = TestGitRepo.create();
        commit(repo, Map.of("package.json", packageJson("\"is-number\": \"7.0.0\""), "package-lock.json", resource("package-lock-1.json")),
                "first");
        String npm = "npm ci --prefer-offline --loglevel=http --no-audit --no-fund";
        assertThat(build(repo, npm).results()).containsExactly("miss", "saved");

        JsonNode answer = Builds.live(repo.url(), npm, Map.of("fresh", true));
        Builds.awaitFinal(answer.path("buildId").asText());
        List<String> messages = Builds.awaitRecording(answer.path("cacheKey").asText(), answer.path("buildId").asText());
        assertThat(messages.stream().filter(m -> m.contains(TYPE)).toList()).singleElement().asString().contains("\"result\":\"bypassed\"");
    }

    // --- helpers ---

    /** One build's recording, seen as a user would: its dependency-cache events, output and build step time. */
    record Build(String id, List<JsonNode> events, String output, long stepMs) {

        List<String> results() {
            return events.stream().map(e -> e.path("result").asText()).toList();
        }

        JsonNode event(String result) {
            return events.stream().filter(e -> e.path("result").asText().equals(result)).findFirst().orElseThrow();
        }
    }

    private static Build build(TestGitRepo repo, String command) throws IOException {
        Builds.Recorded recorded = Builds.recorded(repo.url(), command, Map.of());
        JsonNode status = Builds.awaitFinal(recorded.buildId());
        StringBuilder output = new StringBuilder();
        List<JsonNode> events = new java.util.ArrayList<>();
        long stepMs = -1;
        for (String line : recorded.messages()) {
            JsonNode message = Services.JSON.readTree(line);
            String type = message.path("type").asText();
            JsonNode data = message.path("data");
            if (type.equals("dev.reprise.build.output.v1")) {
                output.append(data.path("chunk").asText());
            } else if (type.equals("dev.reprise.build.dependency-cache.v1")) {
                events.add(data);
            } else if (type.equals("dev.reprise.build.step-finished.v1") && data.path("name").asText().equals("build")) {
                stepMs = data.path("durationMs").asLong();
            }
        }
        assertThat(status.path("status").asText()).as(output.toString()).isEqualTo("SUCCESS");
        return new Build(recorded.buildId(), events, output.toString(), stepMs);
    }

    private static JsonNode entries(TestGitRepo repo) throws IOException {
        Services.Answer answer = Services.getAuthorized("artifact", "/api/v1/artifacts/entries?protocol=deps&repository="
                + URLEncoder.encode(repo.url(), StandardCharsets.UTF_8));
        assertThat(answer.status()).as(String.valueOf(answer.body())).isEqualTo(200);
        return answer.body().path("entries");
    }

    private static String commit(TestGitRepo repo, Map<String, String> files, String message) throws Exception {
        for (Map.Entry<String, String> file : files.entrySet()) {
            Path path = repo.dir().resolve(file.getKey());
            Files.createDirectories(path.getParent());
            Files.writeString(path, file.getValue());
            Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rw-r--r--"));
            repo.git("add", file.getKey());
        }
        repo.git("-c", "user.email=e2e@reprise.dev", "-c", "user.name=e2e", "commit", "-q", "-m", message);
        return repo.head();
    }

    private static String pom(String dependencies) {
        return """
                <project xmlns="http://maven.apache.org/POM/4.0.0">
                  <modelVersion>4.0.0</modelVersion>
                  <groupId>dev.reprise.demo</groupId>
                  <artifactId>deps-demo</artifactId>
                  <version>1.0</version>
                  <properties>
                    <maven.compiler.source>17</maven.compiler.source>
                    <maven.compiler.target>17</maven.compiler.target>
                    <project.build.sourceEncoding>UTF-8</project.build.sourceEncoding>
                  </properties>
                  <dependencies>%s</dependencies>
                </project>
                """.formatted(dependencies);
    }

    private static String app(String text) {
        return "package demo;\n\npublic class App {\n    public static void main(String[] args) {\n        System.out.println(\"" + text
                + " " + RUN + "\");\n    }\n}\n";
    }

    private static String packageJson(String dependencies) {
        return "{\"name\": \"reprise-npm-demo\", \"version\": \"1.0.0\", \"private\": true, \"description\": \"run " + RUN
                + "\", \"dependencies\": {" + dependencies + "}}\n";
    }

    private static String resource(String name) throws IOException {
        try (var in = DependencyCacheIT.class.getResourceAsStream("/dependency-cache/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}
