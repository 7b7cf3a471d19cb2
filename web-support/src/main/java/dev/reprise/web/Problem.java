package dev.reprise.web;

import io.vertx.core.json.JsonObject;
import jakarta.ws.rs.core.Response;
import java.util.Map;

/**
 * An RFC 9457 problem-details body, the one error shape of every Reprise API: {@code type} is
 * {@code https://reprise.dev/problems/<slug>}, {@code detail} says what to fix, {@code field} (optional)
 * names the request field at fault for clients that highlight it.
 */
public record Problem(String type, String title, int status, String detail, String field) {

    public static final String MEDIA_TYPE = "application/problem+json";
    public static final String TYPE_PREFIX = "https://reprise.dev/problems/";

    public static Problem of(int status, String slug, String detail) {
        return of(status, slug, detail, null);
    }

    public static Problem of(int status, String slug, String detail, String field) {
        return new Problem(TYPE_PREFIX + slug, title(status), status, detail, field);
    }

    /** RFC 9110's reason phrase (413 is "Content Too Large" there), or a generic one. */
    static String title(int status) {
        return switch (status) {
            case 413 -> "Content Too Large";
            case 507 -> "Insufficient Storage";
            default -> {
                Response.Status known = Response.Status.fromStatusCode(status);
                yield known != null ? known.getReasonPhrase() : status >= 500 ? "Internal Server Error" : "Error";
            }
        };
    }

    /** The slug of {@link #type()}: {@code not-found}, {@code store-unavailable}. */
    public String slug() {
        return type.startsWith(TYPE_PREFIX) ? type.substring(TYPE_PREFIX.length()) : type;
    }

    /** The body, as every service writes it (members in this order, {@code field} only when set). */
    public String json() {
        JsonObject body = new JsonObject().put("type", type).put("title", title).put("status", status).put("detail", detail);
        if (field != null) {
            body.put("field", field);
        }
        return body.encode();
    }

    public Response response() {
        return response(Map.of());
    }

    public Response response(Map<String, String> headers) {
        Response.ResponseBuilder response = Response.status(status).type(MEDIA_TYPE).entity(json());
        headers.forEach(response::header);
        return response.build();
    }

    /** A 400 naming what to fix. */
    public static Response badRequest(String detail) {
        return of(400, "invalid-request", detail).response();
    }

    public static Response notFound(String detail) {
        return of(404, "not-found", detail).response();
    }

    /** A store away for a moment: 503, and when to try again. */
    public static Response storeUnavailable(String detail) {
        return of(503, "store-unavailable", detail).response(Map.of("Retry-After", StoreFailures.RETRY_AFTER_SECONDS));
    }
}
