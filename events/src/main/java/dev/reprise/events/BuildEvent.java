package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonSubTypes;

/** A build's lifecycle and output, on {@link Topics#BUILD_EVENTS}, keyed by build id. */
@JsonSubTypes({
        @JsonSubTypes.Type(BuildStarted.class),
        @JsonSubTypes.Type(BuildOutput.class),
        @JsonSubTypes.Type(StepStarted.class),
        @JsonSubTypes.Type(StepCacheResult.class),
        @JsonSubTypes.Type(DependencyCacheResult.class),
        @JsonSubTypes.Type(StepFinished.class),
        @JsonSubTypes.Type(BuildCompleted.class)
})
public sealed interface BuildEvent extends ReprisePayload permits BuildStarted, BuildOutput, StepStarted, StepCacheResult, DependencyCacheResult, StepFinished, BuildCompleted {
}
