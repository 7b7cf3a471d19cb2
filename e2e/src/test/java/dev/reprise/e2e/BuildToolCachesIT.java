package dev.reprise.e2e;

import static dev.reprise.e2e.ArtifactIT.BASE;
import static dev.reprise.e2e.ArtifactIT.assertSucceeded;
import static dev.reprise.e2e.ArtifactIT.hits;
import static dev.reprise.e2e.ArtifactIT.run;
import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * turbo, Nx, Gradle and Maven's build cache extension against the running artifact-service, unmodified: each
 * builds a small project, its local cache is cleared, it builds again and reports remote hits by its own output
 * (and the service counts them). A class of its own beside ArtifactIT so the two run side by side.
 */
class BuildToolCachesIT {

    @TempDir
    static Path work;
    private static String token;

    @BeforeAll
    static void token() throws IOException {
        token = Services.token();
    }

    @Test
    void turboRestoresFromTheRemoteCacheWithFullTurbo() throws Exception {
        Path project = Files.createDirectories(work.resolve("turbo"));
        Files.writeString(project.resolve("package.json"), """
                {"name": "reprise-turbo-it", "private": true, "packageManager": "npm@10.0.0", "workspaces": ["packages/*"],
                 "devDependencies": {"turbo": "2.11.11"}}
                """);
        Files.writeString(project.resolve("turbo.json"), """
                {"tasks": {"build": {"outputs": ["dist/**"]}}}
                """);
        Path pkg = Files.createDirectories(project.resolve("packages/app"));
        String marker = "built " + System.nanoTime();
        Files.writeString(pkg.resolve("package.json"), """
                {"name": "app", "version": "1.0.0", "scripts": {"build": "mkdir -p dist && echo '%s' > dist/out.txt && echo compiling app"}}
                """.formatted(marker));
        assertSucceeded(run(project, Map.of(), "npm", "install", "--no-audit", "--no-fund", "--loglevel=error"));
        assertSucceeded(run(project, Map.of(), "git", "init", "-q"));
        Map<String, String> env = Map.of("TURBO_TELEMETRY_DISABLED", "1", "DO_NOT_TRACK", "1", "TURBO_TOKEN", token,
                "TURBO_API", BASE, "TURBO_TEAM", "reprise-it");
        double hitsBefore = hits("turbo");

        Services.Run first = run(project, env, "npx", "turbo", "run", "build");
        assertSucceeded(first);
        assertThat(first.output()).contains("0 cached, 1 total");
        run(project, Map.of(), "rm", "-rf", ".turbo", "packages/app/.turbo", "packages/app/dist", "node_modules/.cache");

        Services.Run second = run(project, env, "npx", "turbo", "run", "build");
        assertSucceeded(second);
        assertThat(second.output()).contains("1 cached, 1 total").contains("FULL TURBO");
        assertThat(Files.readString(pkg.resolve("dist/out.txt")).strip()).isEqualTo(marker);
        assertThat(hits("turbo")).isGreaterThan(hitsBefore);
    }

    @Test
    void nxReadsBothProjectsFromTheSelfHostedRemoteCache() throws Exception {
        Path project = Files.createDirectories(work.resolve("nx"));
        Files.writeString(project.resolve("package.json"), """
                {"name": "reprise-nx-it", "private": true, "workspaces": ["packages/*"], "devDependencies": {"nx": "22.6.1"}}
                """);
        Files.writeString(project.resolve("nx.json"), """
                {"targetDefaults": {"build": {"cache": true, "outputs": ["{projectRoot}/dist"]}}}
                """);
        String stamp = String.valueOf(System.nanoTime());
        for (String name : new String[] {"lib", "app"}) {
            Path pkg = Files.createDirectories(project.resolve("packages/" + name));
            Files.writeString(pkg.resolve("package.json"), """
                    {"name": "%s", "version": "1.0.0", "scripts": {"build": "mkdir -p dist && echo '%s %s' > dist/out.txt && echo compiling %s"}}
                    """.formatted(name, name, stamp, name));
        }
        assertSucceeded(run(project, Map.of(), "npm", "install", "--no-audit", "--no-fund", "--loglevel=error"));
        assertSucceeded(run(project, Map.of(), "git", "init", "-q"));
        Map<String, String> env = Map.of("NX_DAEMON", "false", "NX_NO_CLOUD", "true", "NX_TUI", "false", "CI", "true", "FORCE_COLOR", "0", "NO_COLOR", "1",
                "NX_SELF_HOSTED_REMOTE_CACHE_SERVER", BASE, "NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN", token);
        double hitsBefore = hits("nx");

        Services.Run first = run(project, env, "npx", "nx", "run-many", "-t", "build");
        assertSucceeded(first);
        assertThat(first.output()).contains("compiling lib").contains("compiling app").doesNotContain("[remote cache]");
        run(project, Map.of(), "rm", "-rf", ".nx", "packages/lib/dist", "packages/app/dist");

        Services.Run second = run(project, env, "npx", "nx", "run-many", "-t", "build");
        assertSucceeded(second);
        assertThat(second.output()).contains("lib:build  [remote cache]").contains("app:build  [remote cache]")
                .contains("2 out of 2 tasks");
        assertThat(Files.readString(project.resolve("packages/app/dist/out.txt")).strip()).isEqualTo("app " + stamp);
        assertThat(hits("nx")).isGreaterThanOrEqualTo(hitsBefore + 2);

        // A wrong token: Nx shows Reprise's reason (it reads only text/plain error bodies).
        run(project, Map.of(), "rm", "-rf", ".nx");
        Map<String, String> wrong = new java.util.HashMap<>(env);
        wrong.put("NX_SELF_HOSTED_REMOTE_CACHE_ACCESS_TOKEN", "rpr_" + "x".repeat(43));
        assertThat(run(project, wrong, "npx", "nx", "run-many", "-t", "build").output()).contains("unknown or revoked token")
                .doesNotContain("Misconfigured remote cache endpoint");
    }

    private static final String GRADLE_JVM = "-Xmx512m " + Services.SHORT_LIVED_JVM;

    @Test
    void gradleTakesCompileJavaFromTheRemoteBuildCache() throws Exception {
        Path project = Files.createDirectories(work.resolve("gradle"));
        Files.writeString(project.resolve("settings.gradle"), """
                rootProject.name = 'reprise-gradle-it'
                buildCache {
                    local { enabled = false }
                    remote(HttpBuildCache) {
                        url = '%s/gradle/'
                        push = true
                        credentials { username = 'ci'; password = '%s' }
                    }
                }
                """.formatted(BASE, token));
        Files.writeString(project.resolve("build.gradle"), "apply plugin: 'java'\n");
        // The same options for the launcher and the build JVM, so --no-daemon builds in the launcher (no second JVM).
        Files.writeString(project.resolve("gradle.properties"), "org.gradle.jvmargs=" + GRADLE_JVM + "\n");
        Path sources = Files.createDirectories(project.resolve("src/main/java/it"));
        Files.writeString(sources.resolve("Hello.java"), """
                package it;
                public class Hello { public static final String STAMP = "%s"; }
                """.formatted(System.nanoTime()));
        String home = "--gradle-user-home=" + work.resolve("gradle-home");
        double hitsBefore = hits("gradle");

        Map<String, String> jvm = Map.of("GRADLE_OPTS", GRADLE_JVM);
        Services.Run first = run(project, jvm, "gradle", home, "--no-daemon", "--build-cache", "compileJava");
        assertSucceeded(first);
        assertThat(first.output()).doesNotContain("FROM-CACHE");
        byte[] compiled = Files.readAllBytes(classFile(project));
        assertSucceeded(run(project, jvm, "gradle", home, "--no-daemon", "clean"));

        Services.Run second = run(project, jvm, "gradle", home, "--no-daemon", "--build-cache", "--console=plain", "compileJava");
        assertSucceeded(second);
        assertThat(second.output()).contains(":compileJava FROM-CACHE");
        assertThat(Files.readAllBytes(classFile(project))).isEqualTo(compiled);
        assertThat(hits("gradle")).isGreaterThan(hitsBefore);
    }

    private static Path classFile(Path project) throws IOException {
        try (var files = Files.walk(project.resolve("build/classes"))) {
            return files.filter(f -> f.getFileName().toString().equals("Hello.class")).findFirst().orElseThrow();
        }
    }


    @Test
    void mavenRestoresBothModulesFromTheBuildCacheExtensionsRemoteCache() throws Exception {
        Path mvn = maven("3.9.11"); // the extension needs Maven 3.9+; Debian ships 3.8.7
        Path project = Files.createDirectories(work.resolve("maven"));
        Files.createDirectories(project.resolve(".mvn"));
        Files.writeString(project.resolve(".mvn/extensions.xml"), """
                <extensions><extension><groupId>org.apache.maven.extensions</groupId>
                <artifactId>maven-build-cache-extension</artifactId><version>1.3.0</version></extension></extensions>
                """);
        Files.writeString(project.resolve(".mvn/maven-build-cache-config.xml"), """
                <cache xmlns="http://maven.apache.org/BUILD-CACHE-CONFIG/1.2.0"><configuration>
                  <enabled>true</enabled><hashAlgorithm>SHA-256</hashAlgorithm>
                  <remote enabled="true" saveToRemote="true" id="reprise"><url>%s/maven</url></remote>
                </configuration></cache>
                """.formatted(BASE));
        Files.writeString(project.resolve("settings.xml"), """
                <settings><servers><server><id>reprise</id><username>ci</username><password>%s</password></server></servers></settings>
                """.formatted(token));
        String stamp = String.valueOf(System.nanoTime());
        Files.writeString(project.resolve("pom.xml"), """
                <project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
                  <groupId>it.reprise.m%s</groupId><artifactId>parent</artifactId><version>1.0</version><packaging>pom</packaging>
                  <modules><module>a</module><module>b</module></modules>
                  <properties><maven.compiler.release>17</maven.compiler.release><project.build.sourceEncoding>UTF-8</project.build.sourceEncoding></properties>
                  <dependencies><dependency><groupId>junit</groupId><artifactId>junit</artifactId><version>4.13.2</version><scope>test</scope></dependency></dependencies>
                </project>
                """.formatted(stamp));
        for (String module : new String[] {"a", "b"}) {
            Files.writeString(Files.createDirectories(project.resolve(module)).resolve("pom.xml"), """
                    <project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion>
                      <parent><groupId>it.reprise.m%s</groupId><artifactId>parent</artifactId><version>1.0</version></parent>
                      <artifactId>%s</artifactId>%s
                    </project>
                    """.formatted(stamp, module, module.equals("b") ? "<dependencies><dependency><groupId>it.reprise.m" + stamp
                    + "</groupId><artifactId>a</artifactId><version>1.0</version></dependency></dependencies>" : ""));
        }
        Files.writeString(Files.createDirectories(project.resolve("a/src/main/java/a")).resolve("A.java"),
                "package a; public class A { public static String hello() { return \"hello " + stamp + "\"; } }\n");
        Files.writeString(Files.createDirectories(project.resolve("b/src/main/java/b")).resolve("B.java"),
                "package b; public class B { public static String shout() { return a.A.hello().toUpperCase(); } }\n");
        Files.writeString(Files.createDirectories(project.resolve("b/src/test/java/b")).resolve("BTest.java"),
                "package b; public class BTest { @org.junit.Test public void shouts() { org.junit.Assert.assertTrue(B.shout().startsWith(\"HELLO\")); } }\n");
        String[] verify = {mvn.toString(), "-B", "-s", "settings.xml", "-Dmaven.build.cache.location=" + project.resolve(".build-cache"), "verify"};
        double hitsBefore = hits("maven");

        Map<String, String> jvm = Map.of("MAVEN_OPTS", Services.SHORT_LIVED_JVM);
        Services.Run first = run(project, jvm, verify);
        assertSucceeded(first);
        assertThat(first.output()).contains("Tests run: 1, Failures: 0").contains("Saved to remote cache")
                .doesNotContain("Error downloading cache item");
        byte[] jar = Files.readAllBytes(project.resolve("b/target/b-1.0.jar"));
        run(project, Map.of(), "rm", "-rf", ".build-cache", "a/target", "b/target");

        Services.Run second = run(project, jvm, verify);
        assertSucceeded(second);
        assertThat(second.output()).contains("Found cached build, restoring it.reprise.m" + stamp + ":a")
                .contains("Found cached build, restoring it.reprise.m" + stamp + ":b")
                .contains("Skipping plugin execution (cached): compiler:compile")
                .doesNotContain("Compiling").doesNotContain("Tests run:");
        assertThat(Files.readAllBytes(project.resolve("b/target/b-1.0.jar"))).isEqualTo(jar);
        assertThat(hits("maven")).isGreaterThanOrEqualTo(hitsBefore + 2);
    }

    /**
     * Apache Maven's binary distribution from Maven Central, unpacked once per machine under
     * {@code ${XDG_CACHE_HOME:-~/.cache}/reprise/tools} (unpacked beside, then renamed into place).
     */
    private static Path maven(String version) throws Exception {
        String cache = System.getenv().getOrDefault("XDG_CACHE_HOME", System.getProperty("user.home") + "/.cache");
        Path tools = Files.createDirectories(Path.of(cache, "reprise", "tools"));
        Path home = tools.resolve("apache-maven-" + version);
        if (!Files.isExecutable(home.resolve("bin/mvn"))) {
            Path part = Files.createTempDirectory(tools, "apache-maven-");
            String url = "https://repo.maven.apache.org/maven2/org/apache/maven/apache-maven/" + version + "/apache-maven-" + version
                    + "-bin.tar.gz";
            assertSucceeded(run(part, Map.of(), "sh", "-c", "curl -sSf --retry 3 " + url + " | tar xz"));
            try {
                Files.move(part.resolve("apache-maven-" + version), home, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
            } catch (java.nio.file.FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
                // another run unpacked it first: use theirs
            }
            run(tools, Map.of(), "rm", "-rf", part.toString());
        }
        return home.resolve("bin/mvn");
    }

}
