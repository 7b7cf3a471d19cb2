package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonSubTypes;

/** Commands for the build runners, on {@link Topics#BUILD_REQUESTS}, keyed by cache key. */
@JsonSubTypes({
        @JsonSubTypes.Type(BuildRequested.class),
        @JsonSubTypes.Type(BuildCancelRequested.class)
})
public sealed interface BuildRequestEvent extends ReprisePayload permits BuildRequested, BuildCancelRequested {
}
