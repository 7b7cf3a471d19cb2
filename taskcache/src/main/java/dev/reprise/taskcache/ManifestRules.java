package dev.reprise.taskcache;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * What a manifest may ask for, checked as a whole before anything of it is written: outputs
 * inside the tree by their text, symlinks pointing inside it, nothing nested under a file or a
 * symlink of the same entry (a restored symlink must never become a way out for a later write),
 * known types and modes, blob names that are hashes (they become file names in the cache), and
 * no more entries or declared bytes than the limits allow.
 */
final class ManifestRules {

    private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");
    private static final Pattern MODE = Pattern.compile("[r-][w-][x-][r-][w-][x-][r-][w-][x-]");

    /** One checked output with its path split into names. */
    record Checked(Manifest.Output output, List<String> names) {
    }

    private ManifestRules() {
    }

    /** @return the outputs sorted by path (a directory before what is in it) */
    static List<Checked> check(Manifest manifest, RestoreLimits limits) throws RefusedEntry {
        if (manifest.key() == null || manifest.outputs() == null) {
            throw RefusedEntry.unsafe("the manifest has no key or no outputs");
        }
        RestoreLimits.Budget declared = limits.budget(manifest.key());
        declared.addEntries(manifest.outputs().size());
        Map<String, Checked> byPath = new HashMap<>();
        for (Manifest.Output output : manifest.outputs()) {
            if (output == null || output.type() == null) {
                throw RefusedEntry.unsafe("an output has no type");
            }
            List<String> names = TreePaths.segments(output.path());
            switch (output.type()) {
                case "file" -> {
                    if (output.sha256() == null || !SHA256.matcher(output.sha256()).matches() || output.size() < 0) {
                        throw RefusedEntry.unsafe("file '" + TreePaths.printable(output.path()) + "' has no valid sha256 or size");
                    }
                    checkMode(output);
                    // Only an early refusal of the obvious: the real bytes are counted while they are copied.
                    declared.addBytes(output.size());
                }
                case "dir" -> checkMode(output);
                case "symlink" -> TreePaths.checkLinkTarget(names, output.target());
                default -> throw RefusedEntry.unsafe("output '" + TreePaths.printable(output.path()) + "' has unknown type '"
                        + TreePaths.printable(output.type()) + "'");
            }
            if (byPath.put(output.path(), new Checked(output, names)) != null) {
                throw RefusedEntry.unsafe("output '" + TreePaths.printable(output.path()) + "' is listed twice");
            }
        }
        for (Checked checked : byPath.values()) {
            StringBuilder prefix = new StringBuilder();
            for (int i = 0; i < checked.names().size() - 1; i++) {
                prefix.append(i == 0 ? "" : "/").append(checked.names().get(i));
                Checked parent = byPath.get(prefix.toString());
                if (parent != null && !parent.output().type().equals("dir")) {
                    throw RefusedEntry.unsafe("output '" + TreePaths.printable(checked.output().path()) + "' lies under the "
                            + parent.output().type() + " '" + TreePaths.printable(prefix.toString()) + "'");
                }
            }
        }
        List<Checked> sorted = new ArrayList<>(byPath.values());
        sorted.sort(Comparator.comparing(c -> c.output().path()));
        return sorted;
    }

    private static void checkMode(Manifest.Output output) throws RefusedEntry {
        if (output.mode() == null || !MODE.matcher(output.mode()).matches()) {
            throw RefusedEntry.unsafe("output '" + TreePaths.printable(output.path()) + "' has no valid mode");
        }
    }
}
