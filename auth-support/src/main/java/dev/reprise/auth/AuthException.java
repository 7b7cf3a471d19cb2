package dev.reprise.auth;

/** Credentials refused (401) or not checkable just now (503): the status, a problem type and a message that says what to do. */
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

    public static AuthException unauthorized(String detail) {
        return new AuthException(401, "unauthorized", detail);
    }

    public static AuthException forbidden(String detail) {
        return new AuthException(403, "forbidden", detail);
    }
}
