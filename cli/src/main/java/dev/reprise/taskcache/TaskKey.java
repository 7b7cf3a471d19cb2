package dev.reprise.taskcache;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * The key of one task: sha256 of this canonical JSON, fields in this order, no whitespace:
 * {@code {"v":1,"inputs":[{"path":…,"sha256":…}…],"command":[…],"env":{…},"toolchains":{…}}}.
 * Inputs are sorted by forward-slash path; env holds only the listed variables (an unset one is
 * null), sorted by name; toolchains are sorted by tool.
 */
public final class TaskKey {

    private static final ObjectMapper JSON = new ObjectMapper();

    private TaskKey() {
    }

    /** The canonical form, before hashing. */
    public static String canonical(SortedMap<String, String> inputHashes, List<String> command, Map<String, String> env,
            Map<String, String> toolchains) {
        ObjectNode root = JSON.createObjectNode();
        root.put("v", 1);
        ArrayNode inputs = root.putArray("inputs");
        // Natural path order whatever order (or comparator) the caller's map has.
        TreeMap<String, String> sorted = new TreeMap<>();
        sorted.putAll(inputHashes);
        sorted.forEach((path, sha) -> inputs.addObject().put("path", path).put("sha256", sha));
        ArrayNode cmd = root.putArray("command");
        command.forEach(cmd::add);
        ObjectNode environment = root.putObject("env");
        new TreeMap<>(env).forEach(environment::put);
        ObjectNode tools = root.putObject("toolchains");
        new TreeMap<>(toolchains).forEach(tools::put);
        return root.toString();
    }

    public static String of(SortedMap<String, String> inputHashes, List<String> command, Map<String, String> env,
            Map<String, String> toolchains) {
        return Hashing.sha256(canonical(inputHashes, command, env, toolchains));
    }

    /** Hashes the matched input files (path → sha256, sorted). */
    public static SortedMap<String, String> hashInputs(SortedMap<String, Path> files) throws IOException {
        SortedMap<String, String> hashes = new TreeMap<>();
        for (Map.Entry<String, Path> file : files.entrySet()) {
            hashes.put(file.getKey(), Hashing.sha256(file.getValue()));
        }
        return hashes;
    }
}
