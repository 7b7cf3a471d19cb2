package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonTypeName;

/** The builder began building the image. */
@JsonTypeName("dev.reprise.image.build-started.v1")
public record ImageBuildStarted(String imageId, String dependencyHash) implements ImageEvent {
}
