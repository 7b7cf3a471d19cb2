package dev.reprise.artifact.http;

/** A request this service refuses, with the HTTP status and a problem type and message that say what to fix. */
public class ArtifactException extends RuntimeException {

    private final int status;
    private final String type;

    public ArtifactException(int status, String type, String detail) {
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

    public static ArtifactException badRequest(String detail) {
        return new ArtifactException(400, "invalid-request", detail);
    }

    public static ArtifactException unauthorized(String detail) {
        return new ArtifactException(401, "unauthorized", detail);
    }

    public static ArtifactException forbidden(String detail) {
        return new ArtifactException(403, "forbidden", detail);
    }

    public static ArtifactException tooLarge(String detail) {
        return new ArtifactException(413, "too-large", detail);
    }
}
