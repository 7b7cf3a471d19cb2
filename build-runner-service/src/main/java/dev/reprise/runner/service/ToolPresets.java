package dev.reprise.runner.service;

import java.util.Map;
import java.util.Optional;

/** The command each known tool runs when a request names no command of its own. */
public final class ToolPresets {

    /** Tools a request may name; {@code custom} has no preset and needs a command. */
    public static final Map<String, String> COMMANDS = Map.of(
            "maven", "mvn -B -ntp verify",
            "gradle", "gradle build --console=plain",
            "npm", "npm ci && npm test",
            "make", "make");

    private ToolPresets() {
    }

    /** The command to run: the request's own, else the tool's preset. */
    public static Optional<String> commandFor(String tool, String requested) {
        if (requested != null && !requested.isBlank()) {
            return Optional.of(requested);
        }
        return Optional.ofNullable(COMMANDS.get(tool));
    }
}
