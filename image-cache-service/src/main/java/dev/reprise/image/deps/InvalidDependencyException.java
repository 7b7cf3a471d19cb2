package dev.reprise.image.deps;

/** A dependency set no builder could install; the message says what to fix. */
public class InvalidDependencyException extends IllegalArgumentException {

    public InvalidDependencyException(String message) {
        super(message);
    }
}
