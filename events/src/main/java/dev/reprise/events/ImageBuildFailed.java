package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonTypeName;

/** The image could not be built or pushed. */
@JsonTypeName("dev.reprise.image.build-failed.v1")
public record ImageBuildFailed(String imageId, String dependencyHash, String reason) implements ImageEvent {
}
