package dev.reprise.events;

import java.util.List;

/**
 * Kafka topic names, one purpose each. Keys are part of the contract: they decide which events
 * share a partition and therefore keep their order.
 */
public final class Topics {

    /** Build requests, keyed by cache key so duplicate requests meet on one partition. */
    public static final String BUILD_REQUESTS = "reprise.build.requests";
    /** A build's lifecycle and output, keyed by build id so one build's events stay ordered. */
    public static final String BUILD_EVENTS = "reprise.build.events";
    /** Recordings stored, invalidated and evicted, keyed by cache key. */
    public static final String CACHE_EVENTS = "reprise.cache.events";
    /** Image build progress and results, keyed by dependency-set hash. */
    public static final String IMAGE_EVENTS = "reprise.image.events";
    /** Blobs and cache entries stored or pruned in the CAS, keyed by digest or cache key. */
    public static final String ARTIFACT_EVENTS = "reprise.artifact.events";

    /** Every topic Reprise uses, for scripts and checks that must create or verify them all. */
    public static final List<String> ALL = List.of(
            BUILD_REQUESTS, BUILD_EVENTS, CACHE_EVENTS, IMAGE_EVENTS, ARTIFACT_EVENTS);

    private Topics() {
    }
}
