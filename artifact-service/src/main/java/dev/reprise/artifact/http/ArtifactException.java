package dev.reprise.artifact.http;

import dev.reprise.web.ProblemException;
import java.util.Map;

/** A request this service refuses, with the HTTP status and a problem type and message that say what to fix. */
public class ArtifactException extends ProblemException {

    public ArtifactException(int status, String type, String detail) {
        super(status, type, detail);
    }

    public ArtifactException(int status, String type, String detail, Map<String, String> headers) {
        super(status, type, detail, null, headers);
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
