package dev.reprise.artifact.service;

import dev.reprise.artifact.config.ArtifactConfig;
import dev.reprise.artifact.http.ArtifactException;
import dev.reprise.artifact.messaging.ArtifactEventPublisher;
import dev.reprise.artifact.store.ArtifactIndex;
import dev.reprise.artifact.store.EntryReports;
import dev.reprise.artifact.store.BlobIndex;
import dev.reprise.artifact.store.ArtifactIndex.EntryWrite;
import dev.reprise.artifact.store.ArtifactIndex.Hit;
import dev.reprise.artifact.store.ArtifactIndex.SaveOutcome;
import dev.reprise.artifact.store.ArtifactIndex.Saved;
import dev.reprise.artifact.store.BlobObjects;
import dev.reprise.artifact.store.LocalBlobs;
import dev.reprise.events.ArtifactEvent;
import dev.reprise.events.BlobQuarantined;
import dev.reprise.events.BlobStored;
import dev.reprise.events.CacheEntrySaved;
import io.smallrye.mutiny.Uni;
import io.smallrye.mutiny.infrastructure.Infrastructure;
import jakarta.enterprise.context.ApplicationScoped;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.function.Supplier;
import org.jboss.logging.Logger;

/**
 * The content-addressed store: saving an uploaded, hashed spool file under a protocol key, and
 * opening a hit as bytes verified against its digest. Corrupt or missing bytes in S3 are never
 * served: the blob is quarantined and the request is a miss. A local copy is checked every time it
 * is served (it is only a cache, on a disk others may reach): one that no longer matches is dropped
 * and counted, and the blob comes from S3 again.
 */
@ApplicationScoped
public class Cas {

    private static final Logger LOG = Logger.getLogger(Cas.class);

    /** An upload on local disk, hashed while it arrived. */
    public record Upload(Path file, String digest, long size) {
    }

    /**
     * Bytes to send: {@code bytes}, already checked against the digest in memory (small blobs), or
     * the file at {@code path}, which must be {@code size} bytes hashing to {@code digest} as it is
     * sent (a mismatch aborts the response before it completes). A {@code temporary} file (too
     * large for the local cache) is deleted once sent.
     */
    public record BlobFile(byte[] bytes, Path path, boolean temporary, String digest, long size) {

        public static BlobFile inMemory(byte[] bytes, String digest) {
            return new BlobFile(bytes, null, false, digest, bytes.length);
        }

        public static BlobFile onDisk(Path path, boolean temporary, String digest, long size) {
            return new BlobFile(null, path, temporary, digest, size);
        }
    }

    /** Blobs up to this size are read and hashed on the calling thread; larger ones on a worker. */
    private static final long INLINE_CHECK_BYTES = 64 * 1024;

    private final ArtifactIndex index;
    private final EntryReports reports;
    private final BlobIndex blobs;
    private final BlobObjects objects;
    private final LocalBlobs local;
    private final ArtifactConfig config;
    private final ArtifactMetrics metrics;
    private final AccessRecorder accesses;
    private final ArtifactEventPublisher events;
    private final StagedSaves staged;
    private final HitCache hits;

    public Cas(ArtifactIndex index, EntryReports reports, BlobIndex blobs, BlobObjects objects, LocalBlobs local, ArtifactConfig config, ArtifactMetrics metrics,
            AccessRecorder accesses, ArtifactEventPublisher events, StagedSaves staged, HitCache hits) {
        this.index = index;
        this.reports = reports;
        this.blobs = blobs;
        this.objects = objects;
        this.local = local;
        this.config = config;
        this.metrics = metrics;
        this.accesses = accesses;
        this.events = events;
        this.staged = staged;
        this.hits = hits;
    }

    /** When an entry saved now expires. */
    public OffsetDateTime expiryFromNow() {
        return OffsetDateTime.now().plus(config.entryTtl());
    }

    /**
     * Saves {@code upload} as the entry {@code w} describes (its digest and size must be the
     * upload's). The spool file is consumed: moved into the local cache or deleted.
     *
     * @return the saved entry's id; fails with 409 for an existing immutable entry, 507 over quota
     */
    public Uni<Long> save(EntryWrite w, Upload upload, boolean immutable) {
        if (!immutable && staged.accepts(upload.size())) {
            // Acknowledged once durable on this disk; S3 and the index get it in a batch behind (StagedSaves).
            return checkQuota(w.tenantId(), upload.size() + staged.pendingBytes(w.tenantId()))
                    .chain(() -> staged.stage(w, upload))
                    .invoke(() -> metrics.transferred("in", upload.size()))
                    .onFailure().call(() -> blocking(() -> LocalBlobs.deleteQuietly(upload.file())));
        }
        // The save checks the blob under its row lock and asks for the upload only when it is not live.
        return checkQuota(w.tenantId(), upload.size())
                .chain(() -> index.save(w, null, immutable))
                .chain(saved -> saved.outcome() == SaveOutcome.NEEDS_UPLOAD ? uploadAndSave(w, upload, immutable)
                        : Uni.createFrom().item(saved))
                .map(saved -> {
                    if (saved.outcome() == SaveOutcome.CONFLICT) {
                        throw new ArtifactException(409, "exists", "an entry with key '" + w.key() + "' and version '"
                                + w.version() + "' already exists; entries are immutable, save under a new key");
                    }
                    metrics.transferred("in", upload.size());
                    if (saved.outcome() == SaveOutcome.SAVED_NEW_BLOB) {
                        publish(upload.digest(), 1, new BlobStored(upload.digest(), upload.size(), w.tenantId()));
                    }
                    hits.forget(w.tenantId(), w.protocol(), w.key(), w.version());
                    if (saved.entryId() != null) {
                        publish(w.tenantId() + "/" + w.protocol() + "/" + w.key(), saved.entryId(),
                                new CacheEntrySaved(w.tenantId(), w.protocol(), w.key(), upload.digest(), upload.size()));
                    }
                    return saved.entryId() == null ? -1L : saved.entryId();
                })
                .chain(id -> blocking(() -> {
                    // The spool file is verified content: keep it as the local copy for the next GET.
                    if (local.admit(upload.file(), upload.digest(), upload.size()).isEmpty()) {
                        LocalBlobs.deleteQuietly(upload.file());
                    }
                    return id;
                }))
                .onFailure().call(() -> blocking(() -> LocalBlobs.deleteQuietly(upload.file())));
    }

    private Uni<Saved> uploadAndSave(EntryWrite w, Upload upload, boolean immutable) {
        String objectKey = BlobObjects.newObjectKey(upload.digest());
        return objects.upload(objectKey, upload.file(), upload.size())
                .chain(() -> index.save(w, objectKey, immutable))
                .call(saved -> {
                    // A concurrent upload of the same content won, or the save was refused: ours is surplus.
                    boolean ours = saved.outcome() == SaveOutcome.SAVED_NEW_BLOB;
                    Uni<Void> surplus = ours ? Uni.createFrom().voidItem() : objects.delete(objectKey);
                    return saved.replacedObject() == null ? surplus : surplus.chain(() -> release(saved.replacedObject()));
                });
    }

    /**
     * Deletes the bytes behind an object name no blob row uses any more: a blob's own object at
     * once; a pack once no row names any of its blobs (its other blobs may still be live).
     */
    public Uni<Void> release(String objectKey) {
        Optional<BlobObjects.PackMember> packed = BlobObjects.member(objectKey);
        if (packed.isEmpty()) {
            return objects.delete(objectKey);
        }
        String pack = packed.get().pack();
        return blobs.packReferenced(pack).chain(used -> used ? Uni.createFrom().voidItem() : objects.delete(pack));
    }

    private Uni<Void> checkQuota(String tenantId, long size) {
        if (config.tenantQuotaBytes().isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        long quota = config.tenantQuotaBytes().getAsLong();
        return reports.tenantTotals(tenantId).invoke(totals -> {
            if (totals.bytes() + size > quota) {
                throw new ArtifactException(507, "quota-exceeded", "the tenant's store is full (" + totals.bytes()
                        + " of " + quota + " bytes used, this blob needs " + size + "); invalidate entries or raise the quota");
            }
        }).replaceWithVoid();
    }

    /** The live entry for a key (its bytes not yet checked: {@link #open} does that and counts the hit). */
    public Uni<Optional<Hit>> lookup(String tenantId, String protocol, String key, String version) {
        Optional<Hit> pending = staged.lookup(tenantId, protocol, key, version);
        if (pending.isPresent()) {
            return Uni.createFrom().item(pending);
        }
        Optional<Hit> remembered = hits.get(tenantId, protocol, key, version);
        return remembered.isPresent() ? Uni.createFrom().item(remembered)
                : index.lookup(tenantId, protocol, key, version).invoke(found -> found.ifPresent(h -> hits.put(tenantId, protocol, key, version, h)));
    }

    /** The live entries among {@code keys}, by key: staged and remembered ones from memory, the rest in one index query. */
    public Uni<java.util.Map<String, Hit>> lookupAll(String tenantId, String protocol, java.util.Collection<String> keys, String version) {
        java.util.Map<String, Hit> found = new java.util.HashMap<>();
        List<String> ask = new java.util.ArrayList<>();
        for (String key : new java.util.LinkedHashSet<>(keys)) {
            Optional<Hit> known = staged.lookup(tenantId, protocol, key, version).or(() -> hits.get(tenantId, protocol, key, version));
            if (known.isPresent()) {
                found.put(key, known.get());
            } else {
                ask.add(key);
            }
        }
        return index.lookupAll(tenantId, protocol, ask, version).map(more -> {
            more.forEach((key, hit) -> hits.put(tenantId, protocol, key, version, hit));
            found.putAll(more);
            return found;
        });
    }

    /** An entry's provenance, where its saver sent one. */
    public Uni<Optional<io.vertx.core.json.JsonObject>> provenance(long entryId) {
        return reports.provenance(entryId);
    }

    /** A tenant's entry by id. */
    public Uni<Optional<Hit>> byId(String tenantId, String protocol, long id) {
        return index.byId(tenantId, protocol, id);
    }

    /** The first entry the attempts find, in their order (actions/cache restore). */
    public Uni<Optional<Hit>> restore(String tenantId, String protocol, String version, List<RestoreOrder.Attempt> attempts) {
        if (attempts.isEmpty()) {
            return Uni.createFrom().item(Optional.empty());
        }
        RestoreOrder.Attempt first = attempts.get(0);
        return index.exactOrPrefix(tenantId, protocol, first.candidate(), version, first.branch())
                .chain(hit -> hit.isPresent() ? Uni.createFrom().item(hit)
                        : restore(tenantId, protocol, version, attempts.subList(1, attempts.size())));
    }

    /**
     * The hit's bytes, verified (or to be verified as they are sent), or empty when they cannot be
     * served (the blob is then quarantined). Counts the hit or miss and records the access.
     */
    public Uni<Optional<BlobFile>> open(String tenantId, String protocol, Hit hit) {
        Optional<Path> stagedFile = staged.blobOf(hit);
        Uni<Optional<BlobFile>> copy = stagedFile.isPresent()
                ? fromCopy(hit, stagedFile.get(), false).chain(c -> c.isPresent() ? Uni.createFrom().item(c) : fromLocalCopy(hit))
                : fromLocalCopy(hit);
        return copy
                // A staged save (no object yet) that is in neither place: stored and trimmed meanwhile, a miss this once.
                .chain(c -> c.isPresent() || hit.objectKey() == null ? Uni.createFrom().item(c) : fetch(hit))
                .invoke(path -> {
                    if (path.isPresent()) {
                        metrics.hit(tenantId, protocol);
                        metrics.transferred("out", hit.size());
                        touched(hit);
                    } else {
                        metrics.miss(tenantId, protocol);
                    }
                });
    }

    /** Counts a lookup that found nothing. */
    public void missed(String tenantId, String protocol) {
        metrics.miss(tenantId, protocol);
    }

    /** Counts a hit answered from the index alone (HEAD, the empty blob) and records the access. */
    public void hitWithoutBody(String tenantId, String protocol, Hit hit) {
        metrics.hit(tenantId, protocol);
        if (hit != null) {
            touched(hit);
        }
    }

    /** Records a hit's access (a staged entry has no row yet: its save is its last access). */
    private void touched(Hit hit) {
        if (hit.entryId() > 0) {
            accesses.touched(hit.entryId());
        }
    }

    /**
     * The local copy, if there is one that still matches: a small blob is read whole and hashed
     * now; a larger one is size-checked now and hashed as it is sent. A copy that does not match is
     * dropped (then the blob is fetched from S3).
     */
    private Uni<Optional<BlobFile>> fromLocalCopy(Hit hit) {
        Optional<Path> cached = local.cached(hit.digest());
        return cached.isEmpty() ? Uni.createFrom().item(Optional.empty()) : fromCopy(hit, cached.get(), true);
    }

    /**
     * A copy of the hit's blob at {@code path} (the local cache's, or a staged save's file), if it
     * is there and matches. A cached copy that does not match is dropped; a staged file that does
     * not match is not served either (it is checked again before it is stored, at the next start).
     */
    private Uni<Optional<BlobFile>> fromCopy(Hit hit, Path path, boolean cacheCopy) {
        ThrowingSupplier<Optional<BlobFile>> check = () -> {
            if (hit.size() <= config.verifyInMemoryBytes()) {
                LocalBlobs.Verified copy;
                try {
                    copy = LocalBlobs.readChecked(path, hit.digest(), hit.size());
                } catch (java.nio.file.NoSuchFileException e) {
                    return Optional.empty();
                }
                if (copy.mismatch() != null) {
                    localCopyRejected(hit.digest(), copy.mismatch(), !cacheCopy);
                }
                return Optional.ofNullable(copy.bytes()).map(bytes -> BlobFile.inMemory(bytes, hit.digest()));
            }
            OptionalLong size = sizeOf(path);
            if (size.isPresent() && size.getAsLong() != hit.size()) {
                localCopyRejected(hit.digest(), "size", !cacheCopy);
            }
            return size.isPresent() && size.getAsLong() == hit.size()
                    ? Optional.of(BlobFile.onDisk(path, false, hit.digest(), hit.size()))
                    : Optional.empty();
        };
        return hit.size() <= INLINE_CHECK_BYTES ? now(check) : blocking(check);
    }

    /**
     * Counts and reports a local copy that did not match its blob's {@code size} or {@code digest}
     * (overwritten, or a failing disk) and drops it, unless it was a {@code temporary} file of one
     * request. S3 still has the blob: the next request fetches it again.
     */
    public void localCopyRejected(String digest, String mismatch, boolean temporary) {
        metrics.localCopyRejected(mismatch);
        LOG.errorf("The local copy of blob %s did not match its %s: dropped, no response carries it whole;"
                + " the blob is fetched from S3 again", digest, mismatch);
        if (!temporary) {
            local.forget(digest);
        }
    }

    private Uni<Optional<BlobFile>> fetch(Hit hit) {
        Path target = local.newSpoolFile();
        Uni<Optional<BlobFile>> fetched;
        if (hit.size() <= config.verifyInMemoryBytes()) {
            // Small: hashed in memory, and those very bytes are sent.
            fetched = objects.download(hit.objectKey(), target)
                    .chain(found -> found ? blocking(() -> LocalBlobs.readChecked(target, hit.digest(), hit.size()))
                            : Uni.createFrom().item((LocalBlobs.Verified) null))
                    .chain(copy -> copy != null && copy.bytes() != null
                            ? blocking(() -> {
                                if (local.admit(target, hit.digest(), hit.size()).isEmpty()) {
                                    LocalBlobs.deleteQuietly(target);
                                }
                                return Optional.of(BlobFile.inMemory(copy.bytes(), hit.digest()));
                            })
                            : quarantine(hit.digest(), hit.objectKey(), (copy == null ? Verdict.MISSING : Verdict.CORRUPT).reason())
                                    .replaceWith(Optional.<BlobFile>empty()));
        } else {
            fetched = download(hit.digest(), hit.objectKey(), hit.size(), target)
                    .chain(verdict -> verdict == Verdict.INTACT
                            ? blocking(() -> Optional.of(local.admit(target, hit.digest(), hit.size())
                                    .map(path -> BlobFile.onDisk(path, false, hit.digest(), hit.size()))
                                    .orElse(BlobFile.onDisk(target, true, hit.digest(), hit.size()))))
                            : quarantine(hit.digest(), hit.objectKey(), verdict.reason()).replaceWith(Optional.<BlobFile>empty()));
        }
        return fetched
                .onFailure().call(() -> blocking(() -> LocalBlobs.deleteQuietly(target)))
                .invoke(file -> {
                    if (file.isEmpty()) {
                        LocalBlobs.deleteQuietly(target);
                    }
                });
    }

    /** What a download found. */
    public enum Verdict {
        INTACT, CORRUPT, MISSING;

        /** The quarantine reason ("corrupt", "missing"). */
        public String reason() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    private static OptionalLong sizeOf(Path path) {
        try {
            return OptionalLong.of(Files.size(path));
        } catch (java.io.IOException e) {
            return OptionalLong.empty();
        }
    }

    /** Downloads a blob's object to {@code target} and checks its size and sha256. */
    public Uni<Verdict> download(String digest, String objectKey, long size, Path target) {
        return objects.download(objectKey, target)
                .chain(found -> found
                        ? blocking(() -> Files.size(target) == size && LocalBlobs.sha256(target).equals(digest) ? Verdict.INTACT : Verdict.CORRUPT)
                        : Uni.createFrom().item(Verdict.MISSING));
    }

    /** Takes a blob out of service for good: its entries become misses, its local copy goes. */
    public Uni<Void> quarantine(String digest, String objectKey, String reason) {
        return blobs.quarantine(digest, objectKey, reason)
                .invoke(changed -> {
                    hits.forgetDigest(digest);
                    if (changed) {
                        LOG.errorf("Blob %s (%s) is %s in S3: quarantined, its entries are now misses", digest, objectKey, reason);
                        metrics.quarantined(reason);
                        publish(digest, System.currentTimeMillis(), new BlobQuarantined(digest, reason));
                    }
                })
                .chain(() -> blocking(() -> {
                    local.forget(digest);
                    return null;
                }))
                .replaceWithVoid();
    }

    /** Publishes an event without holding the request: the index is the record, events tell others. */
    void publish(String subject, long seq, ArtifactEvent event) {
        events.publish(subject, subject, seq, event).subscribe().with(ignored -> { },
                e -> LOG.warnf("Could not publish %s for %s (%s)", event.getClass().getSimpleName(), subject, e.toString()));
    }

    /** Runs file work on a worker thread. */
    public static <T> Uni<T> blocking(ThrowingSupplier<T> work) {
        return now(work).runSubscriptionOn(Infrastructure.getDefaultWorkerPool());
    }

    /** Runs short file work (a page-cache read of a few KiB) on the subscribing thread. */
    private static <T> Uni<T> now(ThrowingSupplier<T> work) {
        return Uni.createFrom().item((Supplier<T>) () -> {
            try {
                return work.get();
            } catch (RuntimeException e) {
                throw e;
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        });
    }

    /** A supplier that may throw (file I/O). */
    @FunctionalInterface
    public interface ThrowingSupplier<T> {
        T get() throws Exception;
    }
}
