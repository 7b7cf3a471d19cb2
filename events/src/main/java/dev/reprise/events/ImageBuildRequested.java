package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonTypeName;
import java.util.List;

/** Build an image of {@code baseImage} with these dependencies pre-installed. */
@JsonTypeName("dev.reprise.image.build-requested.v1")
public record ImageBuildRequested(String imageId, String dependencyHash, String baseImage, List<Dependency> dependencies) implements ImageRequestEvent {
}
