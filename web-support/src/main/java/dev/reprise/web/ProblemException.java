package dev.reprise.web;

import java.util.Map;

/**
 * A request refused with a status and a message that says what to fix. Every service's refusals
 * extend it, so one mapper ({@link ProblemMappers}) answers them all in the same shape, and code
 * that is not JAX-RS (Vert.x routes, gRPC) reads the same status and type.
 */
public class ProblemException extends RuntimeException {

    private final int status;
    private final String type;
    private final String field;
    private final Map<String, String> headers;

    public ProblemException(int status, String type, String detail) {
        this(status, type, detail, null, Map.of());
    }

    /**
     * @param field the request field at fault, or null
     * @param headers extra response headers (WWW-Authenticate, Retry-After)
     */
    public ProblemException(int status, String type, String detail, String field, Map<String, String> headers) {
        super(detail, null, false, false);
        this.status = status;
        this.type = type;
        this.field = field;
        this.headers = Map.copyOf(headers);
    }

    public int status() {
        return status;
    }

    /** The problem's slug: {@code invalid-request}, {@code forbidden}. */
    public String type() {
        return type;
    }

    public String field() {
        return field;
    }

    public Map<String, String> headers() {
        return headers;
    }

    public Problem problem() {
        return Problem.of(status, type, getMessage(), field);
    }

    public jakarta.ws.rs.core.Response toResponse() {
        return problem().response(headers);
    }
}
