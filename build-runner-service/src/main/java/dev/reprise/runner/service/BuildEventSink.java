package dev.reprise.runner.service;

import dev.reprise.events.BuildEvent;

/** Where a running build's events go, in order; implementations number them. */
@FunctionalInterface
public interface BuildEventSink {

    /** Delivers the event durably before returning (so a build never outruns its own stream). */
    void emit(BuildEvent event);
}
