package dev.reprise.events;

/**
 * One entry of an image's dependency set.
 *
 * @param type apt, npm, pip or system
 * @param name the package name
 * @param version a version or range; null means latest at build time
 */
public record Dependency(String type, String name, String version) {
}
