package dev.reprise.web;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.pgclient.PgException;
import java.net.ConnectException;
import java.nio.channels.ClosedChannelException;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.Test;

class StoreFailuresTest {

    @Test
    void aRefusedClosedOrTimedOutConnectionIsUnreachableAtAnyDepth() {
        assertThat(StoreFailures.unreachable(new ConnectException("Connection refused: /127.0.0.1:5432"))).isTrue();
        assertThat(StoreFailures.unreachable(new CompletionException(new IllegalStateException(new ConnectException("refused")))))
                .isTrue();
        assertThat(StoreFailures.unreachable(new RuntimeException(new ClosedChannelException()))).isTrue();
        assertThat(StoreFailures.unreachable(new TimeoutException("10 s"))).isTrue();
    }

    @Test
    void aStatementTheStoreRefusedIsNotUnreachable() {
        assertThat(StoreFailures.unreachable(new IllegalStateException("duplicate key value violates unique constraint"))).isFalse();
        assertThat(StoreFailures.unreachable(new RuntimeException("wrapped", new IllegalArgumentException("bad")))).isFalse();
        assertThat(StoreFailures.unreachable(null)).isFalse();
    }

    @Test
    void postgresqlRestartingOrOutOfConnectionsPassesAConstraintOrABadValueDoesNot() {
        assertThat(StoreFailures.unreachable(new PgException("the database system is starting up", "FATAL", "57P03", null))).isTrue();
        assertThat(StoreFailures.unreachable(new PgException("terminating connection due to administrator command", "FATAL", "57P01",
                null))).isTrue();
        assertThat(StoreFailures.unreachable(new PgException("sorry, too many clients already", "FATAL", "53300", null))).isTrue();
        assertThat(StoreFailures.unreachable(new java.sql.SQLException("connection failure", "08006"))).isTrue();
        assertThat(StoreFailures.unreachable(new PgException("invalid byte sequence for encoding \"UTF8\": 0x00", "ERROR", "22021",
                null))).isFalse();
        assertThat(StoreFailures.unreachable(new PgException("duplicate key value violates unique constraint", "ERROR", "23505",
                null))).isFalse();
    }

    @Test
    void problemsCarryTheirStatusTypeFieldAndHeaders() {
        ProblemException refused = new ProblemException(429, "rate-limited", "slow down", "ref", java.util.Map.of("Retry-After", "3"));
        assertThat(refused.problem().json()).isEqualTo("{\"type\":\"https://reprise.dev/problems/rate-limited\",\"title\":"
                + "\"Too Many Requests\",\"status\":429,\"detail\":\"slow down\",\"field\":\"ref\"}");
        jakarta.ws.rs.core.Response response = refused.toResponse();
        assertThat(response.getStatus()).isEqualTo(429);
        assertThat(response.getHeaderString("Retry-After")).isEqualTo("3");
        assertThat(response.getMediaType().toString()).isEqualTo(Problem.MEDIA_TYPE);
        assertThat(Problem.of(413, "too-large", "x").title()).isEqualTo("Content Too Large");
        assertThat(Problem.of(599, "odd", "x").title()).isEqualTo("Internal Server Error");
        assertThat(Problem.of(404, "not-found", "x").slug()).isEqualTo("not-found");
    }
}
