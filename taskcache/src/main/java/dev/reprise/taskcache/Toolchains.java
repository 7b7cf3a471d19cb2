package dev.reprise.taskcache;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;

/**
 * The toolchain a command runs with, as part of its key: for a known compiler or build tool, the
 * first line its version option prints, plus the Java running the build when it is a JVM tool.
 * An unknown program contributes its resolved path, so a different binary still changes the key.
 */
public final class Toolchains {

    private static final Map<String, String> VERSION_FLAG = Map.ofEntries(
            Map.entry("gcc", "--version"), Map.entry("g++", "--version"), Map.entry("cc", "--version"), Map.entry("c++", "--version"),
            Map.entry("clang", "--version"), Map.entry("make", "--version"), Map.entry("cmake", "--version"),
            Map.entry("javac", "-version"), Map.entry("java", "-version"), Map.entry("mvn", "--version"), Map.entry("gradle", "--version"),
            Map.entry("node", "--version"), Map.entry("npm", "--version"), Map.entry("go", "version"), Map.entry("rustc", "--version"),
            Map.entry("cargo", "--version"), Map.entry("python3", "--version"), Map.entry("yarn", "--version"),
            Map.entry("pnpm", "--version"));
    private static final java.util.regex.Pattern VERSION = java.util.regex.Pattern.compile("\\d+(\\.\\d+)+([-+._][A-Za-z0-9]+)*");
    private static final Set<String> SHELLS = Set.of("sh", "bash", "dash", "zsh");

    private Toolchains() {
    }

    /** Tool name → version line (or resolved path) for the command's program; every version asked anew. */
    public static Map<String, String> detect(List<String> command, Map<String, String> env) {
        return detect(command, env, ToolVersions.none());
    }

    /** Tool name → version line (or resolved path) for the command's program, versions remembered in {@code versions}. */
    public static Map<String, String> detect(List<String> command, Map<String, String> env, ToolVersions versions) {
        Map<String, String> found = new TreeMap<>();
        if (command.isEmpty()) {
            return found;
        }
        String program = Path.of(command.get(0)).getFileName().toString();
        if (SHELLS.contains(program) && command.size() > 2 && command.get(1).equals("-c")) {
            // A shell script's toolchain is its first program's: `sh -c "mvn -B verify"` is a Maven task.
            Optional<String> first = firstProgram(command.get(2));
            if (first.isPresent() && !SHELLS.contains(Path.of(first.get()).getFileName().toString())) {
                return detect(List.of(first.get()), env, versions);
            }
        }
        Optional<Path> resolved = resolve(command.get(0), env.getOrDefault("PATH", System.getenv("PATH")));
        String flag = VERSION_FLAG.get(program);
        if (flag != null && resolved.isPresent()) {
            found.put(program, versions.line(resolved.get(), flag, () -> firstLine(resolved.get(), flag)));
        } else if (!SHELLS.contains(program)) {
            found.put(program, resolved.map(Path::toString).orElse("not found"));
        }
        return found;
    }

    /**
     * A program's version as its version option prints it, reduced to the version number
     * ({@code openjdk version "17.0.13" 2024-10-15} is {@code 17.0.13}); empty when the program is
     * not on {@code path} or is not one this class knows.
     */
    public static Optional<String> version(String program, String path) {
        String flag = VERSION_FLAG.get(program);
        Optional<Path> resolved = resolve(program, path);
        if (flag == null || resolved.isEmpty()) {
            return Optional.empty();
        }
        String line = firstLine(resolved.get(), flag);
        java.util.regex.Matcher number = VERSION.matcher(line);
        return Optional.of(number.find() ? number.group() : line);
    }

    /** The first word of a shell script that names a program: leading {@code NAME=value} assignments skipped. */
    static Optional<String> firstProgram(String script) {
        for (String word : script.strip().split("[\\s;&|()]+")) {
            if (!word.isEmpty() && !word.matches("[A-Za-z_][A-Za-z0-9_]*=.*")) {
                return word.matches("[A-Za-z0-9_./+-]+") ? Optional.of(word) : Optional.empty();
            }
        }
        return Optional.empty();
    }

    private static Optional<Path> resolve(String program, String path) {
        if (program.contains("/")) {
            Path p = Path.of(program).toAbsolutePath();
            return Files.isExecutable(p) ? Optional.of(p) : Optional.empty();
        }
        for (String dir : (path == null ? "" : path).split(":")) {
            if (!dir.isEmpty()) {
                Path candidate = Path.of(dir, program);
                if (Files.isExecutable(candidate)) {
                    return Optional.of(candidate);
                }
            }
        }
        return Optional.empty();
    }

    private static String firstLine(Path program, String flag) {
        try {
            Process process = new ProcessBuilder(program.toString(), flag).redirectErrorStream(true)
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
            byte[] out = process.getInputStream().readNBytes(4096);
            if (!process.waitFor(10, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                return "unknown (" + program + " " + flag + " timed out)";
            }
            String text = new String(out, StandardCharsets.UTF_8).strip();
            int newline = text.indexOf('\n');
            return newline < 0 ? text : text.substring(0, newline).strip();
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown (interrupted)";
        }
    }
}
