package dev.reprise.gateway.service;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.reprise.gateway.service.ResolutionSlots.BusyException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.subscription.Cancellable;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ResolutionSlotsTest {

    private final ExecutorService workers = Executors.newCachedThreadPool(r -> new Thread(r, "test-worker"));
    private final SimpleMeterRegistry metrics = new SimpleMeterRegistry();
    private final ResolutionSlots slots = new ResolutionSlots(2, 3, Duration.ofSeconds(20), workers, metrics);
    private final CountDownLatch remoteAnswers = new CountDownLatch(1);
    private final CountDownLatch started = new CountDownLatch(3);

    @AfterEach
    void stop() {
        remoteAnswers.countDown();
        workers.shutdownNow();
    }

    @Test
    void aTenantMayRunTwoAndTheGatewayThreeThenBusyAtOnceWithRetryAfter() throws Exception {
        CompletableFuture<String> a1 = start("a");
        CompletableFuture<String> a2 = start("a");
        assertThatThrownBy(() -> slots.run("a", () -> "x").await().atMost(Duration.ofSeconds(1)))
                .isInstanceOfSatisfying(BusyException.class, e -> assertThat(Long.parseLong(e.headers().get("Retry-After"))).isBetween(1L, 21L))
                .hasMessageStartingWith("this tenant already has 2 ref resolutions (git ls-remote) running")
                .hasMessageContaining("retry after");
        CompletableFuture<String> b1 = start("b");
        assertThat(started.await(5, TimeUnit.SECONDS)).isTrue();
        assertThatThrownBy(() -> slots.run("c", () -> "x").await().atMost(Duration.ofSeconds(1)))
                .isInstanceOf(BusyException.class).hasMessageStartingWith("the gateway is running 3 ref resolutions");
        assertThat(metrics.get("reprise.gateway.ref.resolutions.limited").tag("limit", "tenant").counter().count()).isEqualTo(1);
        assertThat(metrics.get("reprise.gateway.ref.resolutions.limited").tag("limit", "gateway").counter().count()).isEqualTo(1);
        assertThat(metrics.get("reprise.gateway.ref.resolutions.running").gauge().value()).isEqualTo(3);

        remoteAnswers.countDown();
        assertThat(a1.get(5, TimeUnit.SECONDS)).isEqualTo("resolved on test-worker");
        a2.get(5, TimeUnit.SECONDS);
        b1.get(5, TimeUnit.SECONDS);
        assertThat(slots.run("a", () -> "again").await().atMost(Duration.ofSeconds(5))).isEqualTo("again");
        assertThat(metrics.get("reprise.gateway.ref.resolutions.running").gauge().value()).isZero();
    }

    @Test
    void aFailedResolutionFreesItsSlot() {
        for (int i = 0; i < 5; i++) {
            assertThatThrownBy(() -> slots.run("a", (Supplier<String>) () -> {
                throw new InvalidRequestException("repository", "could not be read");
            }).await().atMost(Duration.ofSeconds(5))).isInstanceOf(InvalidRequestException.class);
        }
        assertThat(slots.run("a", () -> "ok").await().atMost(Duration.ofSeconds(5))).isEqualTo("ok");
    }

    @Test
    void aClientThatHangsUpKeepsItsSlotUntilGitHasEnded() throws Exception {
        CountDownLatch running = new CountDownLatch(2);
        CountDownLatch ended = new CountDownLatch(2);
        for (int i = 0; i < 2; i++) {
            Cancellable request = slots.run("a", () -> {
                running.countDown();
                await(remoteAnswers);
                ended.countDown();
                return "late";
            }).subscribe().with(x -> { }, e -> { });
            request.cancel();
        }
        assertThat(running.await(5, TimeUnit.SECONDS)).isTrue();
        assertThatThrownBy(() -> slots.run("a", () -> "x").await().atMost(Duration.ofSeconds(1))).isInstanceOf(BusyException.class);
        remoteAnswers.countDown();
        assertThat(ended.await(5, TimeUnit.SECONDS)).isTrue();
        assertThat(slots.run("a", () -> "x").await().atMost(Duration.ofSeconds(5))).isEqualTo("x");
    }

    @Test
    void subscribingNeverBlocksTheCallersThread() {
        long before = System.nanoTime();
        Uni<String> slow = slots.run("a", () -> {
            await(remoteAnswers);
            return "done";
        });
        CompletableFuture<String> result = slow.subscribeAsCompletionStage().toCompletableFuture();
        assertThat(Duration.ofNanos(System.nanoTime() - before)).isLessThan(Duration.ofSeconds(1));
        assertThat(result).isNotDone();
        remoteAnswers.countDown();
        assertThat(result.join()).isEqualTo("done");
    }

    private CompletableFuture<String> start(String tenant) {
        return slots.run(tenant, () -> {
            started.countDown();
            await(remoteAnswers);
            return "resolved on " + Thread.currentThread().getName();
        }).subscribeAsCompletionStage().toCompletableFuture();
    }

    private static void await(CountDownLatch latch) {
        try {
            latch.await(30, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
