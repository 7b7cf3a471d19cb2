package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonSubTypes;

/** Image build progress and results, on {@link Topics#IMAGE_EVENTS}, keyed by dependency hash. */
@JsonSubTypes({
        @JsonSubTypes.Type(ImageBuildStarted.class),
        @JsonSubTypes.Type(ImageBuildLog.class),
        @JsonSubTypes.Type(ImageBuilt.class),
        @JsonSubTypes.Type(ImageBuildFailed.class)
})
public sealed interface ImageEvent extends ReprisePayload permits ImageBuildStarted, ImageBuildLog, ImageBuilt, ImageBuildFailed {
}
