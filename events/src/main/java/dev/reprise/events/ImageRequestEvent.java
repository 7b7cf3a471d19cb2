package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonSubTypes;

/** Requests for pre-built images, on {@link Topics#IMAGE_REQUESTS}, keyed by dependency hash. */
@JsonSubTypes({
        @JsonSubTypes.Type(ImageBuildRequested.class)
})
public sealed interface ImageRequestEvent extends ReprisePayload permits ImageBuildRequested {
}
