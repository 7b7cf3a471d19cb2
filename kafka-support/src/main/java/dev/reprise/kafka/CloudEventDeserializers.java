package dev.reprise.kafka;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.reprise.events.BuildEvent;
import dev.reprise.events.BuildRequestEvent;
import dev.reprise.events.CacheEvent;
import dev.reprise.events.CloudEvent;
import io.quarkus.kafka.client.serialization.ObjectMapperDeserializer;

/**
 * Kafka value deserializers, one per event family, for {@code value.deserializer} in a
 * channel's configuration. An unknown {@code type} fails deserialization (never a silent misread).
 */
public final class CloudEventDeserializers {

    private CloudEventDeserializers() {
    }

    /** For {@code reprise.build.requests}. */
    public static final class BuildRequests extends ObjectMapperDeserializer<CloudEvent<BuildRequestEvent>> {
        public BuildRequests() {
            super(new TypeReference<>() { });
        }
    }

    /** For {@code reprise.build.events}. */
    public static final class BuildEvents extends ObjectMapperDeserializer<CloudEvent<BuildEvent>> {
        public BuildEvents() {
            super(new TypeReference<>() { });
        }
    }

    /** For {@code reprise.cache.events}. */
    public static final class CacheEvents extends ObjectMapperDeserializer<CloudEvent<CacheEvent>> {
        public CacheEvents() {
            super(new TypeReference<>() { });
        }
    }
}
