package dev.reprise.replay;

import dev.reprise.events.StreamTickets;
import io.restassured.RestAssured;
import java.net.URI;
import java.time.Instant;

/** What the gateway hands out, made with the %test secret: stream tickets and the service token. */
public final class TestAccess {

    public static final StreamTickets TICKETS = new StreamTickets("reprise-test-stream-secret-0123456789");

    private TestAccess() {
    }

    /**
     * The gateway's internal calls: from now on every RestAssured request carries the service token
     * (a filter, so Quarkus's test port still applies; replacing, so calling it twice is harmless).
     */
    public static void asTheGateway() {
        RestAssured.filters((request, response, context) -> {
            request.replaceHeader(StreamTickets.SERVICE_HEADER, TICKETS.serviceToken());
            return context.next(request, response);
        });
    }

    public static String ticket(String tenant, String subject) {
        return TICKETS.issue(tenant, subject, Instant.now().plusSeconds(600));
    }

    /** ws://… for {@code path} (with its own query, if any) plus a ticket of {@code tenant} for {@code subject}. */
    public static String ws(URI base, String path, String tenant, String subject) {
        String url = base.resolve(path).toString().replaceFirst("^http", "ws");
        return url + (url.contains("?") ? "&" : "?") + StreamTickets.QUERY_PARAMETER + "=" + ticket(tenant, subject);
    }

    /** The replay socket of {@code key} ({@code query} without '?', may be empty), as {@code tenant}. */
    public static String replay(URI base, String key, String query, String tenant) {
        return ws(base, "/ws/recordings/" + key + (query.isEmpty() ? "" : "?" + query), tenant, StreamTickets.key(key));
    }
}
