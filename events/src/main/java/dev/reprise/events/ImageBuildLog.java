package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonTypeName;

/** A line of the image build's log. */
@JsonTypeName("dev.reprise.image.build-log.v1")
public record ImageBuildLog(String imageId, String line) implements ImageEvent {
}
