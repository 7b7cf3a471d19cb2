package dev.reprise.events;

/**
 * The root of every event family. Each family is a sealed interface that extends this one and
 * names its members, with their stable versioned type names, in {@code @JsonSubTypes}.
 */
public sealed interface ReprisePayload
        permits BuildRequestEvent, BuildEvent, CacheEvent, ImageEvent, ArtifactEvent {
}
