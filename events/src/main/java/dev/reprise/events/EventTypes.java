package dev.reprise.events;

import com.fasterxml.jackson.annotation.JsonTypeName;

/** Reads the stable type name a payload record declares with {@link JsonTypeName}. */
public final class EventTypes {

    private EventTypes() {
    }

    /**
     * @return the versioned CloudEvents type of {@code payloadClass}
     * @throws IllegalArgumentException when the class declares none
     */
    public static String typeOf(Class<?> payloadClass) {
        JsonTypeName name = payloadClass.getAnnotation(JsonTypeName.class);
        if (name == null) {
            throw new IllegalArgumentException(payloadClass.getName() + " declares no @JsonTypeName");
        }
        return name.value();
    }
}
