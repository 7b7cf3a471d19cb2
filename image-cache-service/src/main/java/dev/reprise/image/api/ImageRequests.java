package dev.reprise.image.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.exc.UnrecognizedPropertyException;
import dev.reprise.events.Dependency;
import dev.reprise.image.deps.InvalidDependencyException;
import java.util.List;

/** Request bodies of the image API, read strictly: unknown fields and malformed JSON are refused with what to fix. */
final class ImageRequests {

    private static final ObjectMapper STRICT = new ObjectMapper().enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    /** A dependency set: base image (default when absent) and dependencies. {@code retryFailed}: rebuild a failed set. */
    record SetRequest(String baseImage, List<Dependency> dependencies, Boolean retryFailed) {
    }

    record InvalidateRequest(String baseImage) {
    }

    record PruneRequest(Integer unusedDays, Integer maxCount) {
    }

    private ImageRequests() {
    }

    static <T> T read(String body, Class<T> type) {
        if (body == null || body.isBlank()) {
            throw new InvalidDependencyException("the request needs a JSON body");
        }
        try {
            T value = STRICT.readValue(body, type);
            if (value == null) {
                throw new InvalidDependencyException("the request body must be a JSON object, not null");
            }
            return value;
        } catch (UnrecognizedPropertyException e) {
            throw new InvalidDependencyException("unknown field '" + e.getPropertyName() + "'; known fields: "
                    + e.getKnownPropertyIds());
        } catch (JsonProcessingException e) {
            throw new InvalidDependencyException("malformed JSON: " + e.getOriginalMessage());
        }
    }
}
