package dev.reprise.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/** A real local git repository whose build.sh a test controls, reachable as a file:// URL. */
public final class TestGitRepo {

    private final Path dir;

    private TestGitRepo(Path dir) {
        this.dir = dir;
    }

    /** A new repository with branch main and no commits yet, in a fresh temporary directory. */
    public static TestGitRepo create() throws IOException, InterruptedException {
        // Readable by everyone: sandboxed builds clone it as uids of their own.
        TestGitRepo repo = new TestGitRepo(Files.createTempDirectory("reprise-test-repo-",
                java.nio.file.attribute.PosixFilePermissions.asFileAttribute(java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x"))));
        repo.git("init", "-q", "-b", "main");
        return repo;
    }

    /** A new repository whose first commit's build.sh runs {@code script}; see {@link #commitBuildScript}. */
    public static TestGitRepo withBuildScript(String script) throws IOException, InterruptedException {
        TestGitRepo repo = create();
        repo.commitBuildScript(script);
        return repo;
    }

    /** Writes an executable build.sh running {@code script} (bash, set -e) and commits it; returns the SHA. */
    public String commitBuildScript(String script) throws IOException, InterruptedException {
        Path build = dir.resolve("build.sh");
        Files.writeString(build, "#!/usr/bin/env bash\nset -e\n" + script + "\n", StandardCharsets.UTF_8);
        Files.setPosixFilePermissions(build, PosixFilePermissions.fromString("rwxr-xr-x"));
        git("add", "build.sh");
        git("-c", "user.email=test@reprise.dev", "-c", "user.name=Reprise test", "commit", "-q", "--allow-empty", "-m", script);
        return head();
    }

    public String head() throws IOException, InterruptedException {
        return git("rev-parse", "HEAD").strip();
    }

    public Path dir() {
        return dir;
    }

    public String url() {
        return "file://" + dir;
    }

    /** Runs git in the repository; fails with git's output when git does. */
    public String git(String... args) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("git", "-C", dir.toString()));
        command.addAll(List.of(args));
        Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (process.waitFor() != 0) {
            throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
        }
        return out;
    }
}
