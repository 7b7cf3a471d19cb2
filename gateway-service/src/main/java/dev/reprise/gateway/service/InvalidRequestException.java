package dev.reprise.gateway.service;

import dev.reprise.events.RepositoryUrl;
import dev.reprise.web.ProblemException;
import java.util.Map;

/** A request field the caller must fix (HTTP 400); the message names the field first. */
public final class InvalidRequestException extends ProblemException {

    public InvalidRequestException(String field, String problem) {
        super(400, "invalid-request", field + ": " + problem, field, Map.of());
    }

    /** Parses a repository URL given in request field {@code repository}; a bad one is this field's 400. */
    public static RepositoryUrl repository(String value) {
        try {
            return RepositoryUrl.parse(value);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException("repository", e.getMessage());
        }
    }
}
