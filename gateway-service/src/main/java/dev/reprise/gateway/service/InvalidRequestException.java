package dev.reprise.gateway.service;

import dev.reprise.events.RepositoryUrl;

/** A request field the caller must fix (HTTP 400); the message names the field first. */
public final class InvalidRequestException extends RuntimeException {

    private final String field;

    public InvalidRequestException(String field, String problem) {
        super(field + ": " + problem, null, false, false);
        this.field = field;
    }

    /** Parses a repository URL given in request field {@code repository}; a bad one is this field's 400. */
    public static RepositoryUrl repository(String value) {
        try {
            return RepositoryUrl.parse(value);
        } catch (IllegalArgumentException e) {
            throw new InvalidRequestException("repository", e.getMessage());
        }
    }

    public String field() {
        return field;
    }
}
