package dev.reprise.artifact.service;

import dev.reprise.artifact.config.ArtifactConfig;
import dev.reprise.artifact.store.ArtifactIndex;
import dev.reprise.artifact.store.BlobIndex;
import dev.reprise.artifact.store.ArtifactIndex.BatchSave;
import dev.reprise.artifact.store.ArtifactIndex.EntryWrite;
import dev.reprise.artifact.store.ArtifactIndex.Hit;
import dev.reprise.artifact.store.ArtifactIndex.Provenance;
import dev.reprise.artifact.store.ArtifactIndex.SaveOutcome;
import dev.reprise.artifact.store.ArtifactIndex.Saved;
import dev.reprise.artifact.store.BlobObjects;
import dev.reprise.artifact.store.LocalBlobs;
import dev.reprise.events.BlobStored;
import dev.reprise.events.CacheEntrySaved;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.quarkus.runtime.ShutdownEvent;
import io.quarkus.runtime.StartupEvent;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonObject;
import jakarta.annotation.Priority;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.LinkedBlockingDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Stream;
import org.jboss.logging.Logger;

/**
 * Write-behind for replaceable saves (issue 22). A save is acknowledged once its bytes and its
 * entry are durable on this instance's disk: the upload's file is moved into the staging directory
 * and fsynced, its entry written beside it as JSON (fsynced, renamed into place, the directory
 * fsynced, many saves sharing one directory sync). One writer thread then stores the staged saves
 * in batches: one query for which blobs are already stored, the missing ones uploaded to S3 in
 * parallel, every entry of the batch committed in one transaction, the events published, and only
 * then the staging files removed (the blob becomes the local cached copy).
 *
 * <p>The promises: an acknowledged save survives kill -9 and a restart (the staging directory is
 * replayed at start, each blob checked against its digest first); an entry is never visible
 * anywhere before its bytes are readable there (other instances see it only once the index is
 * committed, after the upload; this one serves it from the staging file at once); a later save of
 * a key replaces an earlier one in order. When S3 or PostgreSQL is away the writer retries with a
 * growing pause, and saves keep being acknowledged until {@code max-bytes}/{@code max-entries}
 * wait; beyond that a save is stored the direct way (and fails as it did, 503).
 */
@ApplicationScoped
public class StagedSaves {

    private static final Logger LOG = Logger.getLogger(StagedSaves.class);
    private static final Duration MAX_BACKOFF = Duration.ofSeconds(10);
    private static final Duration STORE_TIMEOUT = Duration.ofMinutes(5);

    /** What identifies an entry: a newer staged save of it hides an older one and the index's. */
    private record EntryKey(String tenantId, String protocol, String key, String version) {
        static EntryKey of(EntryWrite w) {
            return new EntryKey(w.tenantId(), w.protocol(), w.key(), w.version());
        }
    }

    /** One acknowledged save waiting to be stored. */
    private static final class Staged {
        final long seq;
        final EntryWrite write;
        final Path blob;
        final Path record;
        final OffsetDateTime stagedAt;
        final long stagedNanos;
        /** The S3 object uploaded for it in an earlier attempt (reused when the batch is retried). */
        volatile String uploadedObject;

        Staged(long seq, EntryWrite write, Path blob, Path record, OffsetDateTime stagedAt) {
            this.seq = seq;
            this.write = write;
            this.blob = blob;
            this.record = record;
            this.stagedAt = stagedAt;
            this.stagedNanos = System.nanoTime();
        }
    }

    /** Someone waiting for a set of saves to be stored. */
    private record Waiter(Set<Long> seqs, CompletableFuture<Void> done) {
    }

    private final ArtifactConfig.WriteBehind settings;
    private final Path dir;
    private final ArtifactIndex index;
    private final BlobIndex blobs;
    private final BlobObjects objects;
    private final LocalBlobs local;
    private final Cas cas;
    private final HitCache hits;
    private final LinkedBlockingDeque<Staged> queue = new LinkedBlockingDeque<>();
    private final Map<Long, Staged> bySeq = new ConcurrentHashMap<>();
    private final Map<EntryKey, Staged> byKey = new ConcurrentHashMap<>();
    private final Map<String, AtomicLong> tenantBytes = new ConcurrentHashMap<>();
    private final List<Waiter> waiters = new CopyOnWriteArrayList<>();
    private final AtomicLong bytes = new AtomicLong();
    private final AtomicLong nextSeq = new AtomicLong(1);
    private final DirectorySync dirSync;
    private final Timer delay;
    private final Counter lost;
    private final Counter retries;
    private volatile boolean running;
    private volatile Thread writer;

    public StagedSaves(ArtifactConfig config, ArtifactIndex index, BlobIndex blobs, BlobObjects objects, LocalBlobs local, Cas cas, HitCache hits,
            MeterRegistry registry) {
        this.settings = config.writeBehind();
        this.dir = config.dataDir().resolve("staged");
        this.index = index;
        this.blobs = blobs;
        this.objects = objects;
        this.local = local;
        this.cas = cas;
        this.hits = hits;
        this.dirSync = new DirectorySync(dir);
        registry.gauge("reprise_artifact_staged_saves", bySeq, Map::size);
        registry.gauge("reprise_artifact_staged_bytes", bytes);
        this.delay = Timer.builder("reprise_artifact_staged_delay_seconds")
                .description("From a save's acknowledgement to its entry committed in the index (visible to every instance)")
                .publishPercentiles(0.5, 0.99).register(registry);
        this.lost = Counter.builder("reprise_artifact_staged_dropped_total")
                .description("Staged saves found damaged at start (their blob no longer matched its digest): dropped, never served")
                .register(registry);
        this.retries = Counter.builder("reprise_artifact_staged_retries_total")
                .description("Batches of staged saves that failed (S3 or PostgreSQL away) and were retried").register(registry);
    }

    // Priority: after LocalBlobs has made the data directory (default priority 2500).
    void onStart(@Observes @Priority(3000) StartupEvent event) throws IOException {
        if (!settings.enabled()) {
            return;
        }
        Files.createDirectories(dir.getParent());
        LocalBlobs.ownerOnly(dir);
        recover();
        running = true;
        writer = new Thread(this::writeLoop, "artifact-write-behind");
        writer.setDaemon(true);
        writer.start();
    }

    void onStop(@Observes ShutdownEvent event) {
        if (writer == null) {
            return;
        }
        running = false;
        // What is not stored within a few seconds stays staged on disk, and is stored at the next start.
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        while (!bySeq.isEmpty() && System.nanoTime() < deadline) {
            sleep(20);
        }
        writer.interrupt();
    }

    /** Whether a save of {@code size} bytes can be staged now (else it is stored the direct way). */
    public boolean accepts(long size) {
        return running && bytes.get() + size <= settings.maxBytes() && bySeq.size() < settings.maxEntries();
    }

    /** Bytes of a tenant's saves still waiting (its quota counts them). */
    public long pendingBytes(String tenantId) {
        AtomicLong n = tenantBytes.get(tenantId);
        return n == null ? 0 : n.get();
    }

    /**
     * Stages a save: when the returned Uni completes, the upload's file and the entry are durable
     * here and the save is as good as stored. The spool file is consumed (or left to the caller on
     * failure).
     *
     * @return a negative id standing for the entry until it has its own
     */
    public Uni<Long> stage(EntryWrite write, Cas.Upload upload) {
        return Cas.blocking(() -> {
            long seq = nextSeq.getAndIncrement();
            String name = String.format("%016x", seq);
            Path blob = dir.resolve(name + ".blob");
            Path record = dir.resolve(name + ".json");
            Files.move(upload.file(), blob, StandardCopyOption.ATOMIC_MOVE);
            try {
                force(blob);
                Path tmp = dir.resolve(name + ".json.tmp");
                try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                    out.write(java.nio.ByteBuffer.wrap(toJson(write).encode().getBytes(StandardCharsets.UTF_8)));
                    out.force(true);
                }
                Files.move(tmp, record, StandardCopyOption.ATOMIC_MOVE);
                dirSync.sync();
            } catch (IOException | RuntimeException e) {
                LocalBlobs.deleteQuietly(record);
                LocalBlobs.deleteQuietly(dir.resolve(name + ".json.tmp"));
                Files.move(blob, upload.file(), StandardCopyOption.ATOMIC_MOVE);
                throw e;
            }
            register(new Staged(seq, write, blob, record, OffsetDateTime.now()));
            return -seq;
        });
    }

    /** The newest staged save of this key, as a hit (its id negative: {@link #blobOf} finds its bytes). */
    public Optional<Hit> lookup(String tenantId, String protocol, String key, String version) {
        Staged staged = byKey.get(new EntryKey(tenantId, protocol, key, version));
        if (staged == null) {
            return Optional.empty();
        }
        EntryWrite w = staged.write;
        return Optional.of(new Hit(-staged.seq, w.key(), w.digest(), w.size(), null, w.metadata(), staged.stagedAt, w.branch()));
    }

    /** The staging file of a staged hit's bytes; empty once it is stored (the blob is then in the local cache). */
    public Optional<Path> blobOf(Hit hit) {
        Staged staged = hit.entryId() < 0 ? bySeq.get(-hit.entryId()) : null;
        return staged == null ? Optional.empty() : Optional.of(staged.blob);
    }

    /**
     * Completes when every save of the tenant staged so far is stored (then the index shows it),
     * or fails after {@code timeout} ({@code tenantId} null: every tenant's). Invalidations wait for
     * it, so an entry saved before one can never come back after it.
     */
    public Uni<Void> stored(String tenantId, Duration timeout) {
        Set<Long> seqs = ConcurrentHashMap.newKeySet();
        bySeq.values().stream().filter(s -> tenantId == null || s.write.tenantId().equals(tenantId)).forEach(s -> seqs.add(s.seq));
        if (seqs.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        Waiter waiter = new Waiter(seqs, new CompletableFuture<>());
        waiters.add(waiter);
        seqs.removeIf(seq -> !bySeq.containsKey(seq)); // stored meanwhile
        settle();
        return Uni.createFrom().completionStage(waiter.done).ifNoItem().after(timeout)
                .failWith(() -> new IllegalStateException("recent saves of this tenant are not stored yet (S3 or PostgreSQL unavailable)"))
                .onTermination().invoke(() -> waiters.remove(waiter));
    }

    // --- the writer ---------------------------------------------------------------------------------

    private void writeLoop() {
        long backoff = 0;
        while (running || !queue.isEmpty()) {
            List<Staged> batch = new ArrayList<>();
            try {
                Staged first = queue.poll(200, TimeUnit.MILLISECONDS);
                if (first == null) {
                    continue;
                }
                batch.add(first);
                if (queue.size() < settings.batch() - 1 && !settings.linger().isZero()) {
                    TimeUnit.NANOSECONDS.sleep(settings.linger().toNanos());
                }
                queue.drainTo(batch, settings.batch() - 1);
                List<Staged> again = store(batch);
                requeue(again);
                backoff = 0;
            } catch (InterruptedException e) {
                requeue(batch);
                Thread.currentThread().interrupt();
                return;
            } catch (RuntimeException e) {
                requeue(batch);
                retries.increment();
                backoff = Math.min(MAX_BACKOFF.toMillis(), Math.max(100, backoff * 2));
                LOG.warnf("Storing %d staged saves failed (%s); they stay staged and are retried in %d ms", batch.size(), e.toString(),
                        backoff);
                if (!running) {
                    return; // shutting down: they are stored at the next start
                }
                sleep(backoff);
            }
        }
    }

    /**
     * Stores one batch: uploads the blobs not yet stored, commits the entries, publishes, clears
     * the staging files. @return saves that must go round again (their blob was collected meanwhile)
     */
    private List<Staged> store(List<Staged> batch) {
        // One upload per distinct content not stored yet, attached to the first save of it in the batch.
        Map<String, Staged> firstByDigest = new HashMap<>();
        for (Staged s : batch) {
            firstByDigest.putIfAbsent(s.write.digest(), s);
        }
        Set<String> live = blobs.liveDigests(firstByDigest.keySet()).await().atMost(STORE_TIMEOUT);
        List<Staged> toUpload = firstByDigest.values().stream()
                .filter(s -> !live.contains(s.write.digest()) && s.uploadedObject == null).toList();
        if (!toUpload.isEmpty()) {
            Multi.createFrom().iterable(uploads(toUpload))
                    .onItem().transformToUni(this::upload).merge(settings.uploads())
                    .collect().last().await().atMost(STORE_TIMEOUT);
        }
        List<BatchSave> saves = new ArrayList<>(batch.size());
        for (Staged s : batch) {
            boolean first = firstByDigest.get(s.write.digest()) == s;
            saves.add(new BatchSave(s.write, first ? s.uploadedObject : null));
        }
        List<Saved> results;
        try {
            results = index.saveAll(saves).await().atMost(STORE_TIMEOUT);
        } catch (RuntimeException e) {
            // E.g. another instance saved one of these keys at the same moment: one by one then.
            LOG.debugf("A batch of %d saves failed as a whole (%s); saving them one by one", saves.size(), e.toString());
            results = new ArrayList<>();
            for (BatchSave save : saves) {
                results.add(index.save(save.write(), save.uploadedObject(), false).await().atMost(STORE_TIMEOUT));
            }
        }
        List<Staged> again = new ArrayList<>();
        List<Staged> done = new ArrayList<>();
        for (int i = 0; i < batch.size(); i++) {
            Staged s = batch.get(i);
            Saved saved = results.get(i);
            String ours = saves.get(i).uploadedObject();
            if (saved.outcome() == SaveOutcome.NEEDS_UPLOAD) {
                again.add(s);
                continue;
            }
            if (ours != null && saved.outcome() != SaveOutcome.SAVED_NEW_BLOB) {
                // Surplus, unless an earlier attempt of this save stored the blob with it (then it is the blob's bytes).
                blobs.holdsObject(s.write.digest(), ours)
                        .chain(held -> held ? Uni.createFrom().voidItem() : cas.release(ours))
                        .subscribe().with(x -> { }, e -> LOG.debugf("Surplus object %s stays: %s", ours, e));
            }
            if (saved.replacedObject() != null) {
                cas.release(saved.replacedObject()).subscribe().with(x -> { },
                        e -> LOG.debugf("Replaced object %s stays: %s", saved.replacedObject(), e));
            }
            if (saved.outcome() == SaveOutcome.SAVED_NEW_BLOB) {
                cas.publish(s.write.digest(), 1, new BlobStored(s.write.digest(), s.write.size(), s.write.tenantId()));
            }
            if (saved.entryId() != null) {
                EntryWrite w = s.write;
                cas.publish(w.tenantId() + "/" + w.protocol() + "/" + w.key(), saved.entryId(),
                        new CacheEntrySaved(w.tenantId(), w.protocol(), w.key(), w.digest(), w.size()));
            }
            // A save whose blob was uploaded by an earlier save of this batch is still waiting on that upload's object.
            s.uploadedObject = null;
            done.add(s);
        }
        for (Staged s : again) {
            s.uploadedObject = null; // its blob is gone: upload again
        }
        for (Staged s : done) {
            LocalBlobs.deleteQuietly(s.record);
        }
        try {
            dirSync.sync(); // the records' removal is durable: a restart does not store them again
        } catch (IOException e) {
            LOG.debugf("Cannot sync %s: %s", dir, e);
        }
        for (Staged s : done) {
            // The bytes are verified content: keep them as the local copy, then stop serving the staging file.
            if (local.admit(s.blob, s.write.digest(), s.write.size()).isEmpty()) {
                LocalBlobs.deleteQuietly(s.blob);
            }
            unregister(s);
            // An older hit of the key remembered in memory must not outlive the staged save that replaced it.
            hits.forget(s.write.tenantId(), s.write.protocol(), s.write.key(), s.write.version());
            delay.record(System.nanoTime() - s.stagedNanos, TimeUnit.NANOSECONDS);
        }
        settle();
        return again;
    }

    /** The uploads for these saves: large blobs one object each, small ones together in packs of up to {@code pack-bytes}. */
    private List<List<Staged>> uploads(List<Staged> toUpload) {
        List<List<Staged>> uploads = new ArrayList<>();
        List<Staged> pack = new ArrayList<>();
        long packed = 0;
        for (Staged s : toUpload) {
            if (s.write.size() >= settings.packBelow()) {
                uploads.add(List.of(s));
                continue;
            }
            if (!pack.isEmpty() && packed + s.write.size() > settings.packBytes()) {
                uploads.add(pack);
                pack = new ArrayList<>();
                packed = 0;
            }
            pack.add(s);
            packed += s.write.size();
        }
        if (!pack.isEmpty()) {
            uploads.add(pack);
        }
        return uploads;
    }

    /** Uploads one blob as an object of its own, or several as one pack; each save then knows its object name. */
    private Uni<Void> upload(List<Staged> members) {
        if (members.size() == 1 && members.get(0).write.size() >= settings.packBelow()) {
            Staged s = members.get(0);
            String objectKey = BlobObjects.newObjectKey(s.write.digest());
            return objects.upload(objectKey, s.blob, s.write.size()).invoke(() -> s.uploadedObject = objectKey);
        }
        String pack = BlobObjects.newPackKey();
        Path file = local.newSpoolFile();
        return Cas.blocking(() -> {
                    List<String> names = new ArrayList<>(members.size());
                    long offset = 0;
                    try (var out = Files.newOutputStream(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
                        for (Staged s : members) {
                            Files.copy(s.blob, out);
                            names.add(new BlobObjects.PackMember(pack, offset, s.write.size()).objectKey());
                            offset += s.write.size();
                        }
                    }
                    if (Files.size(file) != offset) {
                        throw new IOException("pack " + file + " is " + Files.size(file) + " bytes, expected " + offset);
                    }
                    return Map.entry(names, offset);
                })
                .chain(built -> objects.upload(pack, file, built.getValue()).invoke(() -> {
                    for (int i = 0; i < members.size(); i++) {
                        members.get(i).uploadedObject = built.getKey().get(i);
                    }
                }))
                .eventually(() -> Cas.blocking(() -> LocalBlobs.deleteQuietly(file)));
    }

    private void register(Staged s) {
        bySeq.put(s.seq, s);
        byKey.put(EntryKey.of(s.write), s);
        bytes.addAndGet(s.write.size());
        tenantBytes.computeIfAbsent(s.write.tenantId(), t -> new AtomicLong()).addAndGet(s.write.size());
        queue.add(s);
    }

    private void unregister(Staged s) {
        byKey.remove(EntryKey.of(s.write), s);
        bytes.addAndGet(-s.write.size());
        tenantBytes.get(s.write.tenantId()).addAndGet(-s.write.size());
        bySeq.remove(s.seq);
    }

    private void requeue(Collection<Staged> batch) {
        List<Staged> reversed = new ArrayList<>(batch);
        java.util.Collections.reverse(reversed);
        reversed.forEach(queue::addFirst);
    }

    /** Completes the waiters whose saves are all stored. */
    private void settle() {
        for (Waiter waiter : waiters) {
            waiter.seqs.removeIf(seq -> !bySeq.containsKey(seq));
            if (waiter.seqs.isEmpty()) {
                waiter.done.complete(null);
                waiters.remove(waiter);
            }
        }
    }

    // --- the staging directory ----------------------------------------------------------------------

    /**
     * Takes up what a previous process staged: every record whose blob is still there and still
     * hashes to its digest is queued again, in the order it was staged; a damaged one is dropped
     * (and counted): a save is never stored with bytes other than those acknowledged.
     */
    void recover() throws IOException {
        List<Path> files;
        try (Stream<Path> listing = Files.list(dir)) {
            files = listing.sorted().toList();
        }
        Set<String> recovered = new HashSet<>();
        long maxSeq = 0;
        for (Path file : files) {
            String name = file.getFileName().toString();
            if (!name.endsWith(".json")) {
                continue;
            }
            String stem = name.substring(0, name.length() - ".json".length());
            long seq;
            try {
                seq = Long.parseUnsignedLong(stem, 16);
            } catch (NumberFormatException e) {
                continue;
            }
            maxSeq = Math.max(maxSeq, seq);
            Path blob = dir.resolve(stem + ".blob");
            EntryWrite write;
            try {
                write = fromJson(new JsonObject(Files.readString(file)));
            } catch (RuntimeException e) {
                LOG.errorf("Staged save %s is unreadable (%s): dropped", file, e.toString());
                lost.increment();
                LocalBlobs.deleteQuietly(file);
                continue;
            }
            String problem;
            try {
                problem = Files.size(blob) != write.size() ? "size" : !LocalBlobs.sha256(blob).equals(write.digest()) ? "digest" : null;
            } catch (NoSuchFileException e) {
                problem = "missing";
            }
            if (problem != null) {
                LOG.errorf("Staged save of %s/%s key %s: its blob's %s no longer matches: dropped, never served", write.tenantId(),
                        write.protocol(), write.key(), problem);
                lost.increment();
                LocalBlobs.deleteQuietly(file);
                LocalBlobs.deleteQuietly(blob);
                continue;
            }
            register(new Staged(seq, write, blob, file, OffsetDateTime.now()));
            recovered.add(stem);
        }
        // Files of saves that were never acknowledged (or already stored): nothing refers to them.
        for (Path file : files) {
            String name = file.getFileName().toString();
            String stem = name.contains(".") ? name.substring(0, name.indexOf('.')) : name;
            if (!recovered.contains(stem)) {
                LocalBlobs.deleteQuietly(file);
            }
        }
        nextSeq.set(maxSeq + 1);
        if (!recovered.isEmpty()) {
            LOG.infof("%d staged saves (%d bytes) of a previous run are stored now", recovered.size(), bytes.get());
        }
    }

    static JsonObject toJson(EntryWrite w) {
        JsonObject json = new JsonObject().put("tenantId", w.tenantId()).put("protocol", w.protocol()).put("key", w.key())
                .put("version", w.version()).put("digest", w.digest()).put("size", w.size()).put("repository", w.repository())
                .put("branch", w.branch()).put("expiresAt", w.expiresAt() == null ? null : w.expiresAt().toString())
                .put("metadata", w.metadata());
        Provenance p = w.provenance();
        if (p != null) {
            json.put("provenance", new JsonObject().put("repository", p.repository()).put("commit", p.commit())
                    .put("commitMessage", p.commitMessage()).put("branch", p.branch()).put("toolchain", p.toolchain())
                    .put("buildId", p.buildId()).put("durationMs", p.durationMs()).put("dependencyDigests", p.dependencyDigests())
                    .put("lockfileHash", p.lockfileHash()));
        }
        return json;
    }

    static EntryWrite fromJson(JsonObject json) {
        JsonObject p = json.getJsonObject("provenance");
        Provenance provenance = p == null ? null : new Provenance(p.getString("repository"), p.getString("commit"),
                p.getString("commitMessage"), p.getString("branch"), p.getJsonObject("toolchain"), p.getString("buildId"),
                p.getLong("durationMs"), p.getJsonObject("dependencyDigests"), p.getString("lockfileHash"));
        String expires = json.getString("expiresAt");
        return new EntryWrite(json.getString("tenantId"), json.getString("protocol"), json.getString("key"),
                json.getString("version"), json.getString("digest"), json.getLong("size"), json.getString("repository"),
                json.getString("branch"), expires == null ? null : OffsetDateTime.parse(expires), json.getJsonObject("metadata"),
                provenance);
    }

    private static void force(Path file) throws IOException {
        try (FileChannel channel = FileChannel.open(file, StandardOpenOption.WRITE)) {
            channel.force(true);
        }
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * fsync of a directory, shared: a caller whose change an fsync that started after it already
     * covers does not sync again (group commit). Many saves staged at once pay for one sync.
     */
    static final class DirectorySync {
        private final Path dir;
        private final AtomicLong requested = new AtomicLong();
        private long synced;

        DirectorySync(Path dir) {
            this.dir = dir;
        }

        void sync() throws IOException {
            long mine = requested.incrementAndGet();
            synchronized (this) {
                if (synced >= mine) {
                    return;
                }
                long upTo = requested.get();
                try (FileChannel channel = FileChannel.open(dir, StandardOpenOption.READ)) {
                    channel.force(true);
                }
                synced = upTo;
            }
        }
    }
}
