package dev.reprise.replay.record;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.benmanes.caffeine.cache.AsyncCache;
import com.github.benmanes.caffeine.cache.Caffeine;
import dev.reprise.replay.policy.CachePolicy;
import dev.reprise.replay.store.RecordingIndex;
import dev.reprise.replay.store.RecordingObjects;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Optional;

/**
 * Reads recordings back, for replays and for a client following a build that is no longer live.
 * The index decides which recording a key or build has (so an invalidated entry is never served);
 * the decoded recording comes from a bounded in-memory cache by object key when it is there. An
 * object key names one build's recording and objects are never rewritten, so a cached copy can
 * never be stale, only unreachable once the index stops pointing at it.
 */
@ApplicationScoped
public class RecordedBuilds {

    private final RecordingIndex index;
    private final RecordingObjects objects;
    private final ObjectMapper json;
    private final AsyncCache<String, Recording> decoded;

    public RecordedBuilds(RecordingIndex index, RecordingObjects objects, ObjectMapper json, CachePolicy policy) {
        this.index = index;
        this.objects = objects;
        this.json = json;
        long budget = policy.memoryCache().asLongValue();
        this.decoded = budget <= 0 ? null : Caffeine.newBuilder()
                .maximumWeight(budget)
                .weigher((String key, Recording recording) -> (int) Math.min(Integer.MAX_VALUE, recording.memoryBytes()))
                .buildAsync();
    }

    /** The build's recording, when this build's recording is the indexed one. */
    public Uni<Optional<Recording>> byBuildId(String buildId) {
        return index.byBuildId(buildId).flatMap(this::load);
    }

    /** The newest recording of this cache key. */
    public Uni<Optional<Recording>> byCacheKey(String cacheKey) {
        return index.byCacheKey(cacheKey).flatMap(this::load);
    }

    private Uni<Optional<Recording>> load(Optional<RecordingIndex.Entry> entry) {
        if (entry.isEmpty()) {
            return Uni.createFrom().item(Optional.empty());
        }
        String key = entry.get().objectKey();
        if (decoded == null) {
            return read(key).map(Optional::of);
        }
        // One read per object however many sockets ask at once; a failed read is not kept.
        return Uni.createFrom().completionStage(() -> decoded.get(key, (k, executor) -> read(k).subscribeAsCompletionStage()))
                .map(Optional::of);
    }

    private Uni<Recording> read(String objectKey) {
        return objects.get(objectKey).map(bytes -> Recording.fromGzip(bytes, json));
    }
}
