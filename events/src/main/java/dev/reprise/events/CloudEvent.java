package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonInclude;
import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;
import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/**
 * A CloudEvents 1.0 envelope in structured JSON mode: the Kafka record value is this whole object
 * (content type {@value #CONTENT_TYPE}), the Kafka key equals {@link #partitionkey()}.
 *
 * <p>Rules every producer follows:
 * <ul>
 *   <li>{@code type} is a stable, versioned name such as {@code dev.reprise.build.output.v1}; it is
 *       taken from the payload's {@link JsonSubTypes} name, never written by hand.</li>
 *   <li>{@code seq} (extension attribute) grows by one per subject, starting at 1; consumers dedupe
 *       by {@code subject} + {@code seq} because delivery is at least once.</li>
 *   <li>{@code partitionkey} (the CloudEvents partitioning extension) is the Kafka record key.</li>
 *   <li>Within a version only additive changes are allowed; a breaking change is a new type name.</li>
 * </ul>
 *
 * @param <T> the event family, a sealed interface listing its members in {@link JsonSubTypes}
 */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record CloudEvent<T extends ReprisePayload>(
        String specversion,
        String id,
        String source,
        String subject,
        Instant time,
        String datacontenttype,
        String partitionkey,
        long seq,
        @JsonTypeInfo(use = JsonTypeInfo.Id.NAME, include = JsonTypeInfo.As.EXTERNAL_PROPERTY, property = "type")
        T data) {

    public static final String SPEC_VERSION = "1.0";
    public static final String CONTENT_TYPE = "application/cloudevents+json; charset=UTF-8";
    public static final String DATA_CONTENT_TYPE = "application/json";

    public CloudEvent {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(data, "data");
        if (!SPEC_VERSION.equals(specversion)) {
            throw new IllegalArgumentException("specversion must be " + SPEC_VERSION + " but was " + specversion);
        }
        if (seq < 1) {
            throw new IllegalArgumentException("seq starts at 1 but was " + seq);
        }
    }

    /**
     * A new envelope with a random id and the current time.
     *
     * @param source the producing service, e.g. {@code /reprise/build-runner-service}
     * @param subject what the event is about (a build id, a cache key, an image hash)
     * @param partitionKey the Kafka record key
     * @param seq the per-subject sequence number, starting at 1
     */
    public static <T extends ReprisePayload> CloudEvent<T> of(String source, String subject, String partitionKey,
            long seq, T data) {
        return new CloudEvent<>(SPEC_VERSION, UUID.randomUUID().toString(), source, subject, Instant.now(),
                DATA_CONTENT_TYPE, partitionKey, seq, data);
    }

    /** The CloudEvents {@code type} attribute; on the wire Jackson writes it from the payload's class. */
    @JsonIgnore
    public String eventType() {
        return EventTypes.typeOf(data.getClass());
    }
}
