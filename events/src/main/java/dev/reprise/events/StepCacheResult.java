package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonTypeName;

/**
 * How the task-output cache answered for a step, sent between its StepStarted and its output.
 *
 * @param result {@code hit} (outputs restored, the recorded log follows), {@code miss} (the step
 *        runs and is stored if it succeeds), {@code bypassed} (a fresh build: runs and is stored)
 *        or {@code error} (the cache could not be read; the step runs)
 * @param source on a hit, {@code local} or {@code remote}; otherwise null
 * @param key the task key (sha256), null when it could not be computed
 * @param savedMs on a hit, the recorded run time less the restore time; otherwise 0
 */
@JsonTypeName("dev.reprise.build.step-cache.v1")
public record StepCacheResult(String buildId, int step, String name, String result, String source, String key, long savedMs,
        long offsetMs) implements BuildEvent {
}
