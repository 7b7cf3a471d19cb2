package dev.reprise.kafka;

import dev.reprise.events.CloudEvent;
import dev.reprise.events.ReprisePayload;
import io.smallrye.mutiny.Uni;
import io.smallrye.reactive.messaging.MutinyEmitter;
import io.smallrye.reactive.messaging.kafka.Record;

/**
 * Wraps payloads of one event family in CloudEvents envelopes and sends them with the Kafka key
 * the family's topic is partitioned by. A service subclasses it once per outgoing channel.
 *
 * @param <F> the event family (a sealed interface in {@code events})
 */
public abstract class CloudEventPublisher<F extends ReprisePayload> {

    private final MutinyEmitter<Record<String, CloudEvent<F>>> emitter;
    private final String source;

    /** @param source the producing service, e.g. {@code /reprise/gateway-service} */
    protected CloudEventPublisher(MutinyEmitter<Record<String, CloudEvent<F>>> emitter, String source) {
        this.emitter = emitter;
        this.source = source;
    }

    /**
     * Completes with the envelope once the broker acknowledged it.
     *
     * @param key the Kafka record key
     * @param subject what the event is about; {@code seq} counts per subject from 1
     */
    public Uni<CloudEvent<F>> publish(String key, String subject, long seq, F payload) {
        CloudEvent<F> event = CloudEvent.of(source, subject, key, seq, payload);
        return emitter.send(Record.of(key, event)).replaceWith(event);
    }
}
