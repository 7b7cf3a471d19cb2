package dev.reprise.image.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reprise.events.Dependency;
import dev.reprise.image.store.ImageRow;
import java.time.OffsetDateTime;
import java.util.List;

/** An image as the API shows it; the build log only where asked for (one image). */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record ImageView(String id, String dependencyHash, String status, String reference, String pinnedReference, String tag,
        String baseImage, String baseDigest, String registryDigest, Long sizeBytes, long cacheHits, OffsetDateTime createdAt,
        OffsetDateTime lastUsedAt, OffsetDateTime buildStartedAt, OffsetDateTime buildFinishedAt, String failureReason,
        List<Dependency> dependencies, JsonNode metadata, String buildLog) {

    private static final ObjectMapper JSON = new ObjectMapper();

    static ImageView of(ImageRow row, boolean withLog) {
        return new ImageView(row.id(), row.dependencyHash(), row.status(), row.reference(), row.pinnedReference(), row.tag(),
                row.baseImage(), row.baseDigest(), row.registryDigest(), row.sizeBytes(), row.cacheHits(), row.createdAt(),
                row.lastUsedAt(), row.buildStartedAt(), row.buildFinishedAt(), row.failureReason(), row.dependencies(),
                withLog ? metadata(row.metadata()) : null, withLog ? row.buildLog() : null);
    }

    private static JsonNode metadata(String json) {
        try {
            return json == null ? null : JSON.readTree(json);
        } catch (java.io.IOException e) {
            return null;
        }
    }
}
