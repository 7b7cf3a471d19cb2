package dev.reprise.replay.live;

import io.smallrye.common.annotation.Identifier;
import io.smallrye.reactive.messaging.kafka.KafkaConsumerRebalanceListener;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.kafka.clients.consumer.Consumer;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.common.TopicPartition;
import org.eclipse.microprofile.config.inject.ConfigProperty;

/**
 * Starts the live feed a look-back window in the past, so an instance that starts while builds
 * run still holds their beginnings and can serve a late client the whole stream.
 */
@ApplicationScoped
@Identifier("live-look-back")
public class LookBackRebalanceListener implements KafkaConsumerRebalanceListener {

    private final Duration lookBack;

    public LookBackRebalanceListener(@ConfigProperty(name = "reprise.live.look-back", defaultValue = "2h") Duration lookBack) {
        this.lookBack = lookBack;
    }

    @Override
    public void onPartitionsAssigned(Consumer<?, ?> consumer, Collection<TopicPartition> partitions) {
        long from = System.currentTimeMillis() - lookBack.toMillis();
        Map<TopicPartition, OffsetAndTimestamp> offsets = consumer.offsetsForTimes(
                partitions.stream().collect(Collectors.toMap(Function.identity(), p -> from)));
        Map<TopicPartition, Long> ends = consumer.endOffsets(partitions);
        for (TopicPartition partition : partitions) {
            OffsetAndTimestamp at = offsets.get(partition);
            consumer.seek(partition, at == null ? ends.get(partition) : at.offset());
        }
    }
}
