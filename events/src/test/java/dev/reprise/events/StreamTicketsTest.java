package dev.reprise.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Instant;
import java.util.Base64;
import org.junit.jupiter.api.Test;

class StreamTicketsTest {

    private static final Instant NOW = Instant.parse("2026-12-02T00:00:00Z");
    private final StreamTickets tickets = new StreamTickets("0123456789abcdef-secret");

    @Test
    void aTicketOpensItsSubjectForItsTenantUntilItExpires() {
        String ticket = tickets.issue("team-a", StreamTickets.build("b-1"), NOW.plusSeconds(60));
        assertThat(tickets.verify(ticket, NOW)).contains(new StreamTickets.Ticket("team-a", "build:b-1", NOW.getEpochSecond() + 60));
        assertThat(tickets.verify(ticket, NOW.plusSeconds(60))).isPresent();
        assertThat(tickets.verify(ticket, NOW.plusSeconds(61))).as("expired").isEmpty();
        assertThat(ticket).matches("[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+"); // safe in a query string as is
    }

    @Test
    void aForgedChangedOrForeignTicketIsRefused() {
        String ticket = tickets.issue("team-a", StreamTickets.key("a".repeat(64)), NOW.plusSeconds(60));
        String payload = ticket.substring(0, ticket.indexOf('.'));
        String signature = ticket.substring(ticket.indexOf('.') + 1);
        // Another tenant's claims under the same signature.
        String other = Base64.getUrlEncoder().withoutPadding().encodeToString(
                ("v1\nteam-b\nkey:" + "a".repeat(64) + "\n" + (NOW.getEpochSecond() + 60)).getBytes());
        assertThat(tickets.verify(other + "." + signature, NOW)).isEmpty();
        // Signed with another secret.
        assertThat(new StreamTickets("another-secret-0123456789").verify(ticket, NOW)).isEmpty();
        // Garbage of every shape.
        for (String bad : new String[] {null, "", ".", payload, payload + ".", "." + signature, "!!!." + signature,
                payload + ".%%%", payload + "." + signature + "x", "x".repeat(2000)}) {
            assertThat(tickets.verify(bad, NOW)).as(String.valueOf(bad)).isEmpty();
        }
    }

    @Test
    void theServiceTokenIsDerivedFromTheSecretAndComparedWhole() {
        assertThat(tickets.isServiceToken(tickets.serviceToken())).isTrue();
        assertThat(tickets.serviceToken()).isEqualTo(new StreamTickets("0123456789abcdef-secret").serviceToken()).hasSize(64);
        assertThat(tickets.isServiceToken(tickets.serviceToken().substring(1))).isFalse();
        assertThat(tickets.isServiceToken(null)).isFalse();
        assertThat(new StreamTickets("another-secret-0123456789").isServiceToken(tickets.serviceToken())).isFalse();
    }

    @Test
    void aShortSecretOrAnUnsafeTenantIsRefusedWithTheSettingToFix() {
        assertThatThrownBy(() -> new StreamTickets("short")).hasMessageContaining("REPRISE_STREAM_SECRET");
        assertThatThrownBy(() -> new StreamTickets(null)).hasMessageContaining("at least 16");
        assertThatThrownBy(() -> tickets.issue("a\nb", "build:x", NOW)).isInstanceOf(IllegalArgumentException.class);
    }
}
