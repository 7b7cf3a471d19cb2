package dev.reprise.events;

import static org.assertj.core.api.Assertions.assertThat;

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
}
