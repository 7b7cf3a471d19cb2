package dev.reprise.auth;

import dev.reprise.web.ProblemException;
import java.util.Map;

/** Credentials refused (401), not enough (403) or not checkable just now (503): the status, a problem type and a message that says what to do. */
public class AuthException extends ProblemException {

    public AuthException(int status, String type, String detail) {
        super(status, type, detail, null, status == 401 ? Map.of("WWW-Authenticate", "Bearer realm=\"reprise\"") : Map.of());
    }

    public static AuthException unauthorized(String detail) {
        return new AuthException(401, "unauthorized", detail);
    }

    public static AuthException forbidden(String detail) {
        return new AuthException(403, "forbidden", detail);
    }
}
