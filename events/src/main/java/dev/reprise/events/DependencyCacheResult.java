package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonTypeName;
import java.util.List;

/**
 * What the build's dependency cache did: once before the build step (the restore) and, after a
 * successful build that did not restore its exact key, once more when the dependencies were saved.
 *
 * @param result {@code hit} (the exact key restored), {@code partial} (the newest entry of the same
 *        repository and toolchain restored: the build fetches only what changed), {@code miss}
 *        (nothing to restore), {@code bypassed} (a fresh build restores nothing), {@code error}
 *        (the store could not be read or its entry was refused: a miss, never a failed build) or
 *        {@code saved} (the directories were stored under {@code key})
 * @param key the dependency key (sha256 of repository, lockfiles, toolchains, allow-listed env and build command)
 * @param restoredKey on a hit or partial, the stored key that was restored; otherwise null
 * @param paths the directories under the build's HOME that make up its dependency cache (.m2/repository, .npm…)
 * @param bytes bytes restored or saved (uncompressed file bytes on a restore, the archive on a save)
 * @param millis how long the restore or save took
 * @param builtFrom on a hit or partial, where the restored entry came from ("commit 1a2b3c4 'message' on main,
 *        build b-…, with java 17.0.13, mvn 3.8.7"); on a save, this build's own; otherwise null
 * @param detail why, for an error (what the store answered, what was refused)
 */
@JsonTypeName("dev.reprise.build.dependency-cache.v1")
public record DependencyCacheResult(String buildId, String result, String key, String restoredKey, List<String> paths, long bytes,
        long millis, String builtFrom, String detail, long offsetMs) implements BuildEvent {
}
