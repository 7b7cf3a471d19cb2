package dev.reprise.replay.access;

import dev.reprise.events.StreamTickets;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.inject.Inject;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.util.Optional;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Who may read what here: a client holding the gateway's stream ticket for one build or key, or
 * the gateway itself (service token) on the internal API. See {@link StreamTickets}.
 */
@ApplicationScoped
public class StreamAccess {

    /** WebSocket close code for a missing, forged or expired ticket (4000-4999 are the application's). */
    public static final int UNAUTHORIZED = 4401;
    public static final String HOW = "open the streamUrl the gateway returned for the build (it carries ?ticket=…, valid for an hour;"
            + " GET /api/v1/builds/{id} gives a fresh one)";

    private final StreamTickets tickets;
    private final Clock clock;

    @Inject
    public StreamAccess(@ConfigProperty(name = "reprise.stream.secret") String secret) {
        this(new StreamTickets(secret), Clock.systemUTC());
    }

    StreamAccess(StreamTickets tickets, Clock clock) {
        this.tickets = tickets;
        this.clock = clock;
    }

    /** The tenant a ticket lets in to {@code subject}, when it is ours, unexpired and for exactly that subject. */
    public Optional<String> tenantFor(String ticket, String subject) {
        return tickets.verify(ticket, clock.instant()).filter(t -> t.subject().equals(subject)).map(StreamTickets.Ticket::tenantId);
    }

    public boolean isService(String header) {
        return tickets.isServiceToken(header);
    }

    /** One parameter of a raw query string (the first, decoded), or null. */
    public static String parameter(String query, String name) {
        if (query == null) {
            return null;
        }
        for (String pair : query.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).equals(name)) {
                try {
                    return URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                } catch (IllegalArgumentException e) {
                    return null;
                }
            }
        }
        return null;
    }
}
