package dev.reprise.image.deps;

import dev.reprise.web.ProblemException;

/** A dependency set no builder could install; the message says what to fix. */
public class InvalidDependencyException extends ProblemException {

    public InvalidDependencyException(String message) {
        super(400, "invalid-request", message);
    }
}
