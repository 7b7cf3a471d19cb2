package dev.reprise.taskcache;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
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

    private TaskKey() {
    }

    /** The canonical form, before hashing (built as text: with 10,000 inputs a JSON tree costs more than the lookup). */
    public static String canonical(SortedMap<String, String> inputHashes, List<String> command, Map<String, String> env,
            Map<String, String> toolchains) {
        StringBuilder json = new StringBuilder(128 + inputHashes.size() * 110);
        json.append("{\"v\":1,\"inputs\":[");
        // Natural path order whatever order (or comparator) the caller's map has.
        TreeMap<String, String> sorted = new TreeMap<>();
        sorted.putAll(inputHashes);
        boolean first = true;
        for (Map.Entry<String, String> input : sorted.entrySet()) {
            json.append(first ? "" : ",").append("{\"path\":");
            string(json, input.getKey()).append(",\"sha256\":");
            string(json, input.getValue()).append('}');
            first = false;
        }
        json.append("],\"command\":[");
        for (int i = 0; i < command.size(); i++) {
            string(json.append(i == 0 ? "" : ","), command.get(i));
        }
        json.append("],\"env\":");
        object(json, new TreeMap<>(env)).append(",\"toolchains\":");
        object(json, new TreeMap<>(toolchains)).append('}');
        return json.toString();
    }

    private static StringBuilder object(StringBuilder json, TreeMap<String, String> fields) {
        json.append('{');
        boolean first = true;
        for (Map.Entry<String, String> field : fields.entrySet()) {
            string(json.append(first ? "" : ","), field.getKey()).append(':');
            string(json, field.getValue());
            first = false;
        }
        return json.append('}');
    }

    private static StringBuilder string(StringBuilder json, String value) {
        if (value == null) {
            return json.append("null");
        }
        json.append('"');
        JsonStringEncoder.getInstance().quoteAsString(value, json);
        return json.append('"');
    }

    public static String of(SortedMap<String, String> inputHashes, List<String> command, Map<String, String> env,
            Map<String, String> toolchains) {
        return Hashing.sha256(canonical(inputHashes, command, env, toolchains));
    }

    /** Hashes the matched input files (path → sha256, sorted), reusing what {@code known} remembers. */
    public static SortedMap<String, String> hashInputs(SortedMap<String, Inputs.Found> files, InputHashes known) throws IOException {
        SortedMap<String, String> hashes = new TreeMap<>();
        for (Map.Entry<String, Inputs.Found> file : files.entrySet()) {
            Inputs.Found found = file.getValue();
            hashes.put(file.getKey(), found.linkTarget() != null
                    ? "symlink:" + Hashing.sha256(found.linkTarget().getBytes(java.nio.charset.StandardCharsets.UTF_8))
                    : known.sha256(found.path(), found.size(), found.modified()));
        }
        return hashes;
    }
}
