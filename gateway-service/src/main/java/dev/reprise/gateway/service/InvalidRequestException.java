package dev.reprise.gateway.service;

/** A request field the caller must fix (HTTP 400); the message names the field first. */
public final class InvalidRequestException extends RuntimeException {

    private final String field;

    public InvalidRequestException(String field, String problem) {
        super(field + ": " + problem, null, false, false);
        this.field = field;
    }

    public String field() {
        return field;
    }
}
