package dev.reprise.artifact.service;

import dev.reprise.artifact.config.ArtifactConfig;
import dev.reprise.artifact.http.ArtifactException;
import dev.reprise.artifact.store.ArtifactIndex.EntryWrite;
import dev.reprise.artifact.store.ArtifactIndex.Provenance;
import dev.reprise.artifact.store.LocalBlobs;
import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonObject;
import jakarta.enterprise.context.ApplicationScoped;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.time.Clock;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Uploads of actions/cache archives in pieces, as both protocol versions make them: reserved
 * (one key and version per branch scope at a time), written in ranges (v1: chunks at offsets, in
 * any order and concurrently) or blocks (v2: blocks, then the list that orders them), and
 * committed once: the bytes must cover exactly the committed size, are hashed, and become an
 * immutable entry through {@link Cas#save}. Nothing is visible before the commit; an upload
 * abandoned for longer than {@code upload-ttl} is dropped with its bytes.
 *
 * <p>Uploads in progress live in this instance (their bytes in its spool directory): every
 * request of one upload must reach the instance that reserved it (session affinity by the upload
 * id, or one instance).
 */
@ApplicationScoped
public class ActionsUploads {

    public static final String PROTOCOL = "actions";
    /** Ids stay below 2^53: JavaScript clients keep them as numbers. */
    private static final long MAX_ID = (1L << 53) - 1;
    private static final int MAX_BLOCKS = 50_000;
    /** Uploads one tenant may have in progress at once (each may hold up to max-blob-bytes on this instance's disk). */
    static final int MAX_UPLOADS_PER_TENANT = 32;

    /** Who an upload is for: one tenant's key and version in one branch scope. */
    public record Scope(String tenantId, String key, String version, String branch) {
    }

    /** One upload in progress. Its ranges and blocks change under its own lock. */
    public static final class Upload {
        private final long id;
        private final Scope scope;
        private final long declaredSize;
        private final Path file;
        private final Instant reserved;
        private final TreeMap<Long, Long> ranges = new TreeMap<>();
        private final Map<String, Path> blocks = new LinkedHashMap<>();
        private long blockBytes;
        private boolean committing;

        Upload(long id, Scope scope, long declaredSize, Path file, Instant reserved) {
            this.id = id;
            this.scope = scope;
            this.declaredSize = declaredSize;
            this.file = file;
            this.reserved = reserved;
        }

        public long id() {
            return id;
        }

        public Scope scope() {
            return scope;
        }
    }

    private final Map<Long, Upload> byId = new ConcurrentHashMap<>();
    private final Map<Scope, Upload> byScope = new ConcurrentHashMap<>();
    private final SecureRandom random = new SecureRandom();
    private final LocalBlobs local;
    private final Cas cas;
    private final ArtifactConfig config;
    private final Clock clock;

    @jakarta.inject.Inject
    public ActionsUploads(LocalBlobs local, Cas cas, ArtifactConfig config) {
        this(local, cas, config, Clock.systemUTC());
    }

    ActionsUploads(LocalBlobs local, Cas cas, ArtifactConfig config, Clock clock) {
        this.local = local;
        this.cas = cas;
        this.config = config;
        this.clock = clock;
    }

    /**
     * Starts an upload, unless an entry with this key and version exists in the scope (409,
     * entries are immutable) or another upload of it is in progress (409). {@code declaredSize}
     * (v1's cacheSize; -1 when not told) bounds what may be written.
     */
    public Uni<Upload> reserve(Scope scope, long declaredSize) {
        if (declaredSize > config.maxBlobBytes()) {
            return Uni.createFrom().failure(ArtifactException.badRequest("the cache is " + declaredSize
                    + " bytes, over the data cap of " + config.maxBlobBytes() + " bytes; not saving it"));
        }
        return cas.restore(scope.tenantId(), PROTOCOL, scope.version(), List.of(new RestoreOrder.Attempt(scope.key(), scope.branch())))
                .chain(existing -> Cas.blocking(() -> {
                    if (existing.isPresent() && existing.get().key().equals(scope.key())) {
                        throw exists(scope);
                    }
                    dropAbandoned();
                    if (byId.values().stream().filter(u -> u.scope.tenantId().equals(scope.tenantId())).count() >= MAX_UPLOADS_PER_TENANT) {
                        throw new ArtifactException(429, "too-many-uploads", "this tenant has " + MAX_UPLOADS_PER_TENANT
                                + " cache uploads in progress; commit or abandon one (they are dropped " + config.uploadTtl() + " after reserving)");
                    }
                    Path file = local.newSpoolFile();
                    Files.createFile(file);
                    Upload upload = new Upload(newId(), scope, declaredSize, file, clock.instant());
                    if (byScope.putIfAbsent(scope, upload) != null) {
                        LocalBlobs.deleteQuietly(file);
                        throw new ArtifactException(409, "exists", "another job is saving key '" + scope.key() + "' with version '"
                                + scope.version() + "' right now; entries are immutable, so this save is skipped");
                    }
                    byId.put(upload.id, upload);
                    return upload;
                }));
    }

    /** A tenant's upload by id; 404 for an unknown, finished, expired or another tenant's one. */
    public Upload find(String tenantId, long id) {
        Upload upload = byId.get(id);
        if (upload == null || !upload.scope.tenantId().equals(tenantId)) {
            throw new ArtifactException(404, "not-found", "no upload " + id + " in progress: reserve the cache first (an upload is dropped "
                    + config.uploadTtl() + " after its reservation, and ends with its commit)");
        }
        return upload;
    }

    /** A tenant's upload by what it saves (v2 finalizes by key and version). */
    public Upload find(Scope scope) {
        Upload upload = byScope.get(scope);
        if (upload == null) {
            throw new ArtifactException(404, "not-found", "no upload of key '" + scope.key() + "' with version '" + scope.version()
                    + "' in progress: create the cache entry first");
        }
        return upload;
    }

    /** Writes a received chunk (v1) at {@code offset}; blocking. */
    public void writeAt(Upload upload, long offset, Path chunk, long length) throws IOException {
        try {
            long end = offset + length;
            long bound = upload.declaredSize >= 0 ? upload.declaredSize : config.maxBlobBytes();
            if (end > bound) {
                throw ArtifactException.badRequest("bytes " + offset + "-" + (end - 1) + " lie beyond the reserved size of " + bound + " bytes");
            }
            synchronized (upload) {
                open(upload);
                try (FileChannel out = FileChannel.open(upload.file, StandardOpenOption.WRITE);
                        FileChannel in = FileChannel.open(chunk, StandardOpenOption.READ)) {
                    copy(in, length, out, offset);
                }
                if (length > 0) {
                    addRange(upload.ranges, offset, end);
                }
            }
        } finally {
            LocalBlobs.deleteQuietly(chunk);
        }
    }

    /** Keeps a received block (v2) under its id, replacing one sent before; blocking. */
    public void putBlock(Upload upload, String blockId, Path block) throws IOException {
        synchronized (upload) {
            try {
                open(upload);
                if (!upload.blocks.containsKey(blockId) && upload.blocks.size() >= MAX_BLOCKS) {
                    throw ArtifactException.badRequest("an upload has at most " + MAX_BLOCKS + " blocks");
                }
                Path replaced = upload.blocks.get(blockId);
                long total = upload.blockBytes + Files.size(block) - (replaced == null ? 0 : Files.size(replaced));
                if (total > config.maxBlobBytes()) {
                    throw ArtifactException.tooLarge("the blocks add up to more than " + config.maxBlobBytes() + " bytes, the largest cache entry");
                }
                upload.blockBytes = total;
            } catch (ArtifactException | IOException e) {
                LocalBlobs.deleteQuietly(block);
                throw e;
            }
            Path previous = upload.blocks.put(blockId, block);
            if (previous != null) {
                LocalBlobs.deleteQuietly(previous);
            }
        }
    }

    /** Writes the whole content at once (v2's single PUT), replacing anything written before; blocking. */
    public void putWhole(Upload upload, Path content, long length) throws IOException {
        synchronized (upload) {
            open(upload);
            upload.ranges.clear();
            Files.write(upload.file, new byte[0]);
        }
        writeAt(upload, 0, content, length);
    }

    /** Puts the listed blocks, in order, together as the content (v2's block list); blocking. */
    public void commitBlocks(Upload upload, List<String> blockIds) throws IOException {
        synchronized (upload) {
            open(upload);
            for (String id : blockIds) {
                if (!upload.blocks.containsKey(id)) {
                    throw ArtifactException.badRequest("the block list names block '" + id + "', which was never uploaded");
                }
            }
            long size = 0;
            try (FileChannel out = FileChannel.open(upload.file, StandardOpenOption.WRITE, StandardOpenOption.TRUNCATE_EXISTING)) {
                for (String id : blockIds) {
                    try (FileChannel in = FileChannel.open(upload.blocks.get(id), StandardOpenOption.READ)) {
                        long length = in.size();
                        copy(in, length, out, size);
                        size += length;
                    }
                }
            }
            upload.ranges.clear();
            if (size > 0) {
                upload.ranges.put(0L, size);
            }
            upload.blocks.values().forEach(LocalBlobs::deleteQuietly);
            upload.blocks.clear();
            upload.blockBytes = 0;
        }
    }

    /**
     * Ends the upload: its bytes must be exactly {@code 0..size-1}, all written; they are hashed
     * and saved as an immutable entry. Whatever happens, the upload is over afterwards.
     *
     * @return the entry's id
     */
    public Uni<Long> commit(Upload upload, long size) {
        return Cas.blocking(() -> {
            synchronized (upload) {
                open(upload);
                if (size < 0 || upload.declaredSize >= 0 && size != upload.declaredSize) {
                    throw ArtifactException.badRequest("the committed size " + size + " is not the reserved size " + upload.declaredSize);
                }
                Map.Entry<Long, Long> only = upload.ranges.firstEntry();
                boolean complete = size == 0 ? upload.ranges.isEmpty()
                        : upload.ranges.size() == 1 && only.getKey() == 0 && only.getValue() == size;
                if (!complete) {
                    throw ArtifactException.badRequest("the uploaded bytes do not cover exactly 0-" + (size - 1) + " (received " + describe(upload.ranges)
                            + "); upload every chunk before committing");
                }
                upload.committing = true;
            }
            try (FileChannel out = FileChannel.open(upload.file, StandardOpenOption.WRITE)) {
                out.truncate(size);
            }
            return new Cas.Upload(upload.file, sha256(upload.file), size);
        }).chain(bytes -> {
            Scope scope = upload.scope;
            EntryWrite write = new EntryWrite(scope.tenantId(), PROTOCOL, scope.key(), scope.version(), bytes.digest(), bytes.size(), null,
                    scope.branch(), cas.expiryFromNow(), new JsonObject(), Provenance.NONE);
            return cas.save(write, bytes, true);
        }).onTermination().invoke((id, failure, cancelled) -> {
            if (upload.committing) {
                // saved: the file is the local copy now (or gone); failed: Cas removed it, or it was never handed over
                end(upload, failure != null || cancelled);
            }
        });
    }

    /** Drops uploads reserved longer than the upload TTL ago, with their bytes. */
    void dropAbandoned() {
        Instant cutoff = clock.instant().minus(config.uploadTtl());
        for (Upload upload : byId.values()) {
            if (upload.reserved.isBefore(cutoff)) {
                synchronized (upload) {
                    if (!upload.committing) {
                        end(upload, true);
                    }
                }
            }
        }
    }

    /** Uploads in progress (for tests and the admin view). */
    public int inProgress() {
        return byId.size();
    }

    private void end(Upload upload, boolean deleteFile) {
        byId.remove(upload.id, upload);
        byScope.remove(upload.scope, upload);
        if (deleteFile) {
            LocalBlobs.deleteQuietly(upload.file);
        }
        upload.blocks.values().forEach(LocalBlobs::deleteQuietly);
        upload.blocks.clear();
    }

    private void open(Upload upload) {
        if (upload.committing || byId.get(upload.id) != upload) {
            throw new ArtifactException(409, "exists", "upload " + upload.id + " is already committed or was dropped");
        }
    }

    private long newId() {
        long id;
        do {
            id = 1 + (random.nextLong() & Long.MAX_VALUE) % MAX_ID;
        } while (byId.containsKey(id));
        return id;
    }

    static ArtifactException exists(Scope scope) {
        return new ArtifactException(409, "exists", "an entry with key '" + scope.key() + "' and version '" + scope.version()
                + "' already exists on branch '" + scope.branch() + "'; entries are immutable, save under a new key");
    }

    /** Copies {@code length} bytes of {@code in} to {@code out} at {@code offset}, which may lie beyond its end (a later chunk first). */
    private static void copy(FileChannel in, long length, FileChannel out, long offset) throws IOException {
        out.position(offset);
        long done = 0;
        while (done < length) {
            long n = in.transferTo(done, length - done, out);
            if (n <= 0) {
                throw new IOException("the spooled chunk is shorter than " + length + " bytes");
            }
            done += n;
        }
    }

    /** Adds [start, end) to non-overlapping, non-adjacent ranges (start → end), merging. */
    static void addRange(TreeMap<Long, Long> ranges, long start, long end) {
        Map.Entry<Long, Long> before = ranges.floorEntry(start);
        if (before != null && before.getValue() >= start) {
            start = before.getKey();
            end = Math.max(end, before.getValue());
        }
        Map.Entry<Long, Long> next;
        while ((next = ranges.ceilingEntry(start)) != null && next.getKey() <= end) {
            end = Math.max(end, next.getValue());
            ranges.remove(next.getKey());
        }
        ranges.put(start, end);
    }

    private static String describe(TreeMap<Long, Long> ranges) {
        if (ranges.isEmpty()) {
            return "nothing";
        }
        StringBuilder text = new StringBuilder();
        ranges.forEach((start, end) -> text.append(text.isEmpty() ? "" : ", ").append(start).append('-').append(end - 1));
        return text.toString();
    }

    private static String sha256(Path file) throws IOException {
        MessageDigest digest = LocalBlobs.newSha256();
        try (InputStream in = Files.newInputStream(file)) {
            byte[] buffer = new byte[1 << 16];
            for (int n; (n = in.read(buffer)) > 0; ) {
                digest.update(buffer, 0, n);
            }
        }
        return HexFormat.of().formatHex(digest.digest());
    }
}
