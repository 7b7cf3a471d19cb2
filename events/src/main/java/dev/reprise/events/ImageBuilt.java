package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonTypeName;

/** The image is pushed; {@code digest} is the registry's manifest digest. */
@JsonTypeName("dev.reprise.image.built.v1")
public record ImageBuilt(String imageId, String dependencyHash, String reference, String digest, long sizeBytes, long durationMs) implements ImageEvent {
}
