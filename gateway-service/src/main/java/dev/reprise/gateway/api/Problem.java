package dev.reprise.gateway.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;

/** An RFC 9457 problem-details body, the one error shape of every Reprise API. */
@JsonInclude(JsonInclude.Include.NON_NULL)
public record Problem(String type, String title, int status, String detail, String field) {

    public static final String MEDIA_TYPE = "application/problem+json";

    public static Response response(Response.Status status, String slug, String detail) {
        return response(status, slug, detail, null);
    }

    /** @param field the request field at fault, for clients that highlight it */
    public static Response response(Response.Status status, String slug, String detail, String field) {
        Problem problem = new Problem("https://reprise.dev/problems/" + slug, status.getReasonPhrase(),
                status.getStatusCode(), detail, field);
        return Response.status(status).type(MediaType.valueOf(MEDIA_TYPE)).entity(problem).build();
    }
}
