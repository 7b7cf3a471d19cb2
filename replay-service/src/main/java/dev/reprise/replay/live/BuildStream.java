package dev.reprise.replay.live;

import io.smallrye.mutiny.subscription.MultiEmitter;
import java.util.ArrayList;
import java.util.List;

/**
 * One build's messages so far, exactly as published, in sequence order, and the clients
 * following it. Subscribing takes the backlog and joins the live feed under one lock, so a client
 * gets every message once, in order, whenever it connects.
 */
final class BuildStream {

    private final List<String> messages = new ArrayList<>();
    private final List<MultiEmitter<? super String>> subscribers = new ArrayList<>();
    private long lastSeq;
    private boolean completed;
    private long touchedAt = System.currentTimeMillis();

    /**
     * Adds a message; duplicates (seq already seen) are dropped.
     *
     * @return how many following clients it was sent to at once
     */
    synchronized int accept(long seq, String message, boolean terminal) {
        if (seq <= lastSeq || completed) {
            return 0;
        }
        lastSeq = seq;
        messages.add(message);
        touchedAt = System.currentTimeMillis();
        // Copies: emitting or completing may run a subscriber's termination, which unsubscribes.
        List<MultiEmitter<? super String>> current = List.copyOf(subscribers);
        current.forEach(subscriber -> subscriber.emit(message));
        if (terminal) {
            completed = true;
            subscribers.clear();
            current.forEach(MultiEmitter::complete);
        }
        return current.size();
    }

    synchronized void subscribe(MultiEmitter<? super String> subscriber) {
        messages.forEach(subscriber::emit);
        if (completed) {
            subscriber.complete();
            return;
        }
        subscribers.add(subscriber);
        subscriber.onTermination(() -> unsubscribe(subscriber));
    }

    private synchronized void unsubscribe(MultiEmitter<? super String> subscriber) {
        subscribers.remove(subscriber);
    }

    /** True when nothing happened for {@code idleMs} (a finished build's backlog, or a build never started). */
    synchronized boolean expired(long now, long completedKeepMs, long idleMs) {
        long quiet = now - touchedAt;
        return completed ? quiet > completedKeepMs : quiet > idleMs && subscribers.isEmpty();
    }

    synchronized void close() {
        List<MultiEmitter<? super String>> current = List.copyOf(subscribers);
        subscribers.clear();
        current.forEach(MultiEmitter::complete);
    }
}
