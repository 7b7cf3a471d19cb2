package dev.reprise.auth;

import io.vertx.core.json.JsonObject;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.Response;

/** Credentials refused (401), not enough (403) or not checkable just now (503): the status, a problem type and a message that says what to do. */
public class AuthException extends RuntimeException {

    private final int status;
    private final String type;

    public AuthException(int status, String type, String detail) {
        super(detail, null, false, false);
        this.status = status;
        this.type = type;
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    /** The refusal as a problem-details response; a 401 says which scheme to use. */
    public Response toResponse() {
        Response.Status reason = Response.Status.fromStatusCode(status);
        String body = new JsonObject().put("type", "https://reprise.dev/problems/" + type)
                .put("title", reason == null ? "Error" : reason.getReasonPhrase()).put("status", status).put("detail", getMessage()).encode();
        Response.ResponseBuilder response = Response.status(status).type("application/problem+json").entity(body);
        if (status == 401) {
            response.header(HttpHeaders.WWW_AUTHENTICATE, "Bearer realm=\"reprise\"");
        }
        return response.build();
    }

    public static AuthException unauthorized(String detail) {
        return new AuthException(401, "unauthorized", detail);
    }

    public static AuthException forbidden(String detail) {
        return new AuthException(403, "forbidden", detail);
    }
}
