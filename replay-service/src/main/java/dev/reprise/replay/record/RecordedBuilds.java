package dev.reprise.replay.record;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.reprise.replay.store.RecordingIndex;
import dev.reprise.replay.store.RecordingObjects;
import io.smallrye.mutiny.Uni;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Optional;

/** Reads recordings back: by build id, for a client following a build that is no longer live. */
@ApplicationScoped
public class RecordedBuilds {

    private final RecordingIndex index;
    private final RecordingObjects objects;
    private final ObjectMapper json;

    public RecordedBuilds(RecordingIndex index, RecordingObjects objects, ObjectMapper json) {
        this.index = index;
        this.objects = objects;
        this.json = json;
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
        return entry.isEmpty()
                ? Uni.createFrom().item(Optional.<Recording>empty())
                : objects.get(entry.get().objectKey()).map(bytes -> Optional.of(Recording.fromGzip(bytes, json)));
    }
}
