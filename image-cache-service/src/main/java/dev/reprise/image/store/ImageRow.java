package dev.reprise.image.store;

import dev.reprise.events.Dependency;
import java.time.OffsetDateTime;
import java.util.List;

/** One image as stored: identity, where it lives, how its build went, and how much it is used. */
public record ImageRow(String id, String dependencyHash, String tag, String reference, String baseImage, String baseDigest,
        Long sizeBytes, String registryDigest, String status, String buildLog, String failureReason, String metadata,
        OffsetDateTime createdAt, OffsetDateTime lastUsedAt, long cacheHits, OffsetDateTime buildStartedAt,
        OffsetDateTime buildFinishedAt, List<Dependency> dependencies) {

    public static final String PENDING = "PENDING";
    public static final String BUILDING = "BUILDING";
    public static final String COMPLETED = "COMPLETED";
    public static final String FAILED = "FAILED";

    public boolean completed() {
        return COMPLETED.equals(status);
    }

    /** {@code reference@digest}: the exact image, whatever the tag points at later. */
    public String pinnedReference() {
        return registryDigest == null ? null : reference.substring(0, reference.lastIndexOf(':')) + "@" + registryDigest;
    }
}
