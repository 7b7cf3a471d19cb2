package dev.reprise.artifact.store;

import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonObject;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.RowSet;
import io.vertx.mutiny.sqlclient.SqlConnection;
import io.vertx.mutiny.sqlclient.Tuple;
import io.vertx.pgclient.PgException;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * The CAS index in PostgreSQL: blobs (content, deduplicated across tenants) and the cache entries
 * that map a tenant's protocol keys to them. An entry is a hit only while it is live, unexpired and
 * its blob is live and not quarantined.
 */
@ApplicationScoped
public class ArtifactIndex {

    /** A live blob and the object holding its bytes. */
    public record Blob(String digest, long size, String objectKey) {
    }

    /** A hit: the entry and the blob it points at. */
    public record Hit(long entryId, String key, String digest, long size, String objectKey, JsonObject metadata,
            OffsetDateTime createdAt, String branch) {
    }

    /** What a save writes. {@code expiresAt} may be null (never expires). */
    public record EntryWrite(String tenantId, String protocol, String key, String version, String digest, long size,
            String repository, String branch, OffsetDateTime expiresAt, JsonObject metadata, Provenance provenance) {
    }

    /**
     * Where an entry came from (seed 004's provenance); every field optional. {@code toolchain} and
     * {@code lockfileHash} are also kept on the entry, to find and invalidate entries by them.
     */
    public record Provenance(String repository, String commit, String commitMessage, String branch, JsonObject toolchain,
            String buildId, Long durationMs, JsonObject dependencyDigests, String lockfileHash) {

        public static final Provenance NONE = new Provenance(null, null, null, null, null, null, null, null, null);

        public boolean isEmpty() {
            return repository == null && commit == null && commitMessage == null && branch == null && toolchain == null
                    && buildId == null && durationMs == null && dependencyDigests == null && lockfileHash == null;
        }
    }

    /** Entry filters of the admin API's listing; null fields do not filter. {@code sort}: newest or accessed. */
    public record EntryQuery(String protocol, String repository, String tool, String toolVersion, String lockfileHash, String sort,
            int limit) {
    }

    /** Age of a protocol's live entries, in seconds: average and 90th percentile. */
    public record Ages(String protocol, double averageSeconds, double p90Seconds) {
    }

    /** One of the most used entries, store-wide (for the dashboard). */
    public record Popular(String tenantId, String protocol, String key, long accessCount) {
    }

    /** How a save ended. */
    public enum SaveOutcome {
        /** Saved; the blob was already stored (an uploaded object, if any, is redundant). */
        SAVED_EXISTING_BLOB,
        /** Saved with the uploaded object as the blob's bytes. */
        SAVED_NEW_BLOB,
        /** The blob is not stored (or was just collected): upload it and save again. */
        NEEDS_UPLOAD,
        /** An immutable entry with this key and version already exists. */
        CONFLICT
    }

    /** A save's result; {@code replacedObject} is an object no longer referenced (to delete). */
    public record Saved(SaveOutcome outcome, Long entryId, String replacedObject) {
    }

    /** A blob to collect: marked deleted, its object still to remove. */
    public record Doomed(String digest, String objectKey, long size) {
    }

    /** Live totals. */
    public record Totals(long entries, long bytes) {
    }

    private static final String HIT_COLUMNS = """
            e.id, e.cache_key, e.digest, e.size_bytes, b.object_key, e.metadata, e.created_at, e.branch
            FROM cache_entries e JOIN blobs b ON b.digest = e.digest
            WHERE e.deleted_at IS NULL AND (e.expires_at IS NULL OR e.expires_at > now())
              AND b.deleted_at IS NULL AND b.quarantined_at IS NULL
            """;

    private final Pool pool;

    public ArtifactIndex(Pool pool) {
        this.pool = pool;
    }

    /**
     * Points an entry at a blob, in one transaction: the entry becomes visible together with its
     * blob row, never before. With {@code uploadedObject} null the blob must already be live;
     * otherwise the uploaded object becomes the blob's bytes unless a live copy exists.
     * {@code immutable} entries are never replaced (actions/cache); the others replace the key's
     * previous entry.
     */
    public Uni<Saved> save(EntryWrite w, String uploadedObject, boolean immutable) {
        return pool.withTransaction(tx -> save(tx, w, uploadedObject, immutable))
                .onFailure(ArtifactIndex::isUniqueViolation).recoverWithItem(() -> new Saved(
                        immutable ? SaveOutcome.CONFLICT : SaveOutcome.SAVED_EXISTING_BLOB, null, null));
    }

    /** One save of a batch: the entry and the object uploaded for it ({@code null}: the blob was live when looked at). */
    public record BatchSave(EntryWrite write, String uploadedObject) {
    }

    /**
     * Saves replaceable entries in one transaction with a handful of set-based statements, whatever
     * the batch's size, with {@link #save}'s outcome for each, in order: a save whose blob is
     * neither live nor uploaded is {@code NEEDS_UPLOAD} and writes nothing; the first upload of a
     * content makes it live for the saves after it; of several saves of one key the last is the
     * entry (the earlier ones are saved and replaced at once: no entry id). Fails whole (nothing
     * written) when any statement fails, e.g. a concurrent save of the same key elsewhere: then
     * save them one by one.
     */
    public Uni<List<Saved>> saveAll(List<BatchSave> saves) {
        List<String> digests = saves.stream().map(x -> x.write().digest()).distinct().sorted().toList();
        return pool.withTransaction(tx -> tx.preparedQuery("""
                        SELECT digest, object_key, deleted_at IS NULL AND quarantined_at IS NULL AS live FROM blobs
                        WHERE digest = ANY($1) ORDER BY digest FOR UPDATE""")
                .execute(Tuple.of(digests.toArray(String[]::new)))
                .flatMap(rows -> {
                    java.util.Map<String, Boolean> live = new java.util.HashMap<>();
                    java.util.Map<String, String> previous = new java.util.HashMap<>();
                    rows.forEach(r -> {
                        live.put(r.getString("digest"), r.getBoolean("live"));
                        previous.put(r.getString("digest"), r.getString("object_key"));
                    });
                    SaveOutcome[] outcomes = new SaveOutcome[saves.size()];
                    String[] replaced = new String[saves.size()];
                    List<BatchSave> newBlobs = new ArrayList<>();
                    Set<String> touched = new HashSet<>();
                    for (int i = 0; i < saves.size(); i++) {
                        BatchSave save = saves.get(i);
                        String digest = save.write().digest();
                        if (live.getOrDefault(digest, false)) {
                            outcomes[i] = SaveOutcome.SAVED_EXISTING_BLOB;
                            touched.add(digest);
                        } else if (save.uploadedObject() != null) {
                            outcomes[i] = SaveOutcome.SAVED_NEW_BLOB;
                            replaced[i] = previous.get(digest);
                            newBlobs.add(save);
                            live.put(digest, true);
                        } else {
                            outcomes[i] = SaveOutcome.NEEDS_UPLOAD;
                        }
                    }
                    // Of several saves of one key, the last one is the entry.
                    java.util.Map<List<String>, Integer> last = new java.util.LinkedHashMap<>();
                    for (int i = 0; i < saves.size(); i++) {
                        if (outcomes[i] != SaveOutcome.NEEDS_UPLOAD) {
                            EntryWrite w = saves.get(i).write();
                            List<String> key = List.of(w.tenantId(), w.protocol(), w.key(), w.version());
                            last.remove(key);
                            last.put(key, i);
                        }
                    }
                    List<EntryWrite> entries = last.values().stream().map(i -> saves.get(i).write()).toList();
                    return insertBlobs(tx, newBlobs)
                            .chain(() -> touched.isEmpty() ? Uni.createFrom().voidItem()
                                    : tx.preparedQuery("UPDATE blobs SET last_access_at = now() WHERE digest = ANY($1)")
                                            .execute(Tuple.of(touched.toArray(String[]::new))).replaceWithVoid())
                            .chain(() -> insertEntries(tx, entries))
                            .map(ids -> {
                                List<Saved> out = new ArrayList<>(saves.size());
                                for (int i = 0; i < saves.size(); i++) {
                                    EntryWrite w = saves.get(i).write();
                                    Integer winner = last.get(List.of(w.tenantId(), w.protocol(), w.key(), w.version()));
                                    Long id = winner != null && winner == i ? ids.get(List.of(w.tenantId(), w.protocol(), w.key(), w.version())) : null;
                                    out.add(new Saved(outcomes[i], id, replaced[i]));
                                }
                                return out;
                            });
                }));
    }

    private static Uni<Void> insertBlobs(SqlConnection tx, List<BatchSave> blobs) {
        if (blobs.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        return tx.preparedQuery("""
                        INSERT INTO blobs (digest, size_bytes, object_key)
                        SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[])
                        ON CONFLICT (digest) DO UPDATE SET size_bytes = excluded.size_bytes,
                            object_key = excluded.object_key, created_at = now(), last_access_at = now(),
                            deleted_at = NULL, verified_at = NULL, quarantined_at = NULL, quarantine_reason = NULL""")
                .execute(Tuple.of(blobs.stream().map(b -> b.write().digest()).toArray(String[]::new),
                        blobs.stream().map(b -> b.write().size()).toArray(Long[]::new),
                        blobs.stream().map(BatchSave::uploadedObject).toArray(String[]::new)))
                .replaceWithVoid();
    }

    /** Replaces the keys' live entries with these (keys distinct). @return the new entries' ids by key */
    private static Uni<java.util.Map<List<String>, Long>> insertEntries(SqlConnection tx, List<EntryWrite> entries) {
        java.util.Map<List<String>, Long> ids = new java.util.HashMap<>();
        if (entries.isEmpty()) {
            return Uni.createFrom().item(ids);
        }
        String[] tenants = entries.stream().map(EntryWrite::tenantId).toArray(String[]::new);
        String[] protocols = entries.stream().map(EntryWrite::protocol).toArray(String[]::new);
        String[] keys = entries.stream().map(EntryWrite::key).toArray(String[]::new);
        String[] versions = entries.stream().map(EntryWrite::version).toArray(String[]::new);
        return tx.preparedQuery("""
                        UPDATE cache_entries e SET deleted_at = now(), deleted_reason = 'replaced'
                        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS k(t, p, c, v)
                        WHERE e.tenant_id = k.t AND e.protocol = k.p AND e.cache_key = k.c AND e.version = k.v AND e.deleted_at IS NULL""")
                .execute(Tuple.of(tenants, protocols, keys, versions))
                .chain(() -> tx.preparedQuery("""
                                INSERT INTO cache_entries (tenant_id, protocol, cache_key, version, digest, size_bytes, repository, branch,
                                                           expires_at, metadata, lockfile_hash, toolchain)
                                SELECT t, p, c, v, d, s, r, b, x, m::jsonb, l, tc::jsonb
                                FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[],
                                            $8::text[], $9::timestamptz[], $10::text[], $11::text[], $12::text[])
                                     AS u(t, p, c, v, d, s, r, b, x, m, l, tc)
                                RETURNING id, tenant_id, protocol, cache_key, version""")
                        .execute(Tuple.from(Arrays.asList(tenants, protocols, keys, versions,
                                entries.stream().map(EntryWrite::digest).toArray(String[]::new),
                                entries.stream().map(EntryWrite::size).toArray(Long[]::new),
                                entries.stream().map(EntryWrite::repository).toArray(String[]::new),
                                entries.stream().map(EntryWrite::branch).toArray(String[]::new),
                                entries.stream().map(EntryWrite::expiresAt).toArray(OffsetDateTime[]::new),
                                entries.stream().map(w -> (w.metadata() == null ? new JsonObject() : w.metadata()).encode()).toArray(String[]::new),
                                entries.stream().map(w -> w.provenance() == null ? null : w.provenance().lockfileHash()).toArray(String[]::new),
                                entries.stream().map(w -> w.provenance() == null || w.provenance().toolchain() == null ? null
                                        : w.provenance().toolchain().encode()).toArray(String[]::new)))))
                .chain(rows -> {
                    rows.forEach(r -> ids.put(List.of(r.getString("tenant_id"), r.getString("protocol"), r.getString("cache_key"),
                            r.getString("version")), r.getLong("id")));
                    List<EntryWrite> withProvenance = entries.stream().filter(w -> w.provenance() != null && !w.provenance().isEmpty()).toList();
                    if (withProvenance.isEmpty()) {
                        return Uni.createFrom().item(ids);
                    }
                    java.util.function.Function<EntryWrite, Provenance> p = EntryWrite::provenance;
                    return tx.preparedQuery("""
                                    INSERT INTO provenance (entry_id, repository, commit_sha, branch, toolchain, build_id, duration_ms,
                                                            dependency_digests, commit_message)
                                    SELECT i, r, c, b, tc::jsonb, bi, dm, dd::jsonb, cm
                                    FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::bigint[],
                                                $8::text[], $9::text[]) AS u(i, r, c, b, tc, bi, dm, dd, cm)""")
                            .execute(Tuple.from(Arrays.asList(
                                    withProvenance.stream().map(w -> ids.get(List.of(w.tenantId(), w.protocol(), w.key(), w.version())))
                                            .toArray(Long[]::new),
                                    withProvenance.stream().map(w -> p.apply(w).repository()).toArray(String[]::new),
                                    withProvenance.stream().map(w -> p.apply(w).commit()).toArray(String[]::new),
                                    withProvenance.stream().map(w -> p.apply(w).branch()).toArray(String[]::new),
                                    withProvenance.stream().map(w -> p.apply(w).toolchain() == null ? null : p.apply(w).toolchain().encode())
                                            .toArray(String[]::new),
                                    withProvenance.stream().map(w -> p.apply(w).buildId()).toArray(String[]::new),
                                    withProvenance.stream().map(w -> p.apply(w).durationMs()).toArray(Long[]::new),
                                    withProvenance.stream().map(w -> p.apply(w).dependencyDigests() == null ? null
                                            : p.apply(w).dependencyDigests().encode()).toArray(String[]::new),
                                    withProvenance.stream().map(w -> p.apply(w).commitMessage()).toArray(String[]::new))))
                            .replaceWith(ids);
                });
    }

    /** Whether the blob row of {@code digest} names {@code objectKey} as its bytes (then the object must stay). */
    public Uni<Boolean> holdsObject(String digest, String objectKey) {
        return pool.preparedQuery("SELECT 1 FROM blobs WHERE digest = $1 AND object_key = $2")
                .execute(Tuple.of(digest, objectKey)).map(rows -> rows.size() > 0);
    }

    /** Whether any blob row (live, quarantined or being collected) still names a blob in {@code pack}. */
    public Uni<Boolean> packReferenced(String pack) {
        // Members are named pack#…: every key from "pack#" up to (not including) "pack$", in byte order.
        return pool.preparedQuery("SELECT 1 FROM blobs WHERE object_key COLLATE \"C\" >= $1 AND object_key COLLATE \"C\" < $2 LIMIT 1")
                .execute(Tuple.of(pack + "#", pack + "$")).map(rows -> rows.size() > 0);
    }

    /** Which of {@code digests} are stored and servable. */
    public Uni<Set<String>> liveDigests(Collection<String> digests) {
        return pool.preparedQuery("""
                        SELECT digest FROM blobs WHERE digest = ANY($1) AND deleted_at IS NULL AND quarantined_at IS NULL""")
                .execute(Tuple.of(digests.toArray(String[]::new)))
                .map(rows -> {
                    Set<String> live = new HashSet<>();
                    rows.forEach(r -> live.add(r.getString("digest")));
                    return live;
                });
    }

    private Uni<Saved> save(SqlConnection tx, EntryWrite w, String uploadedObject, boolean immutable) {
        return tx.preparedQuery("""
                        SELECT object_key, deleted_at IS NULL AND quarantined_at IS NULL AS live FROM blobs
                        WHERE digest = $1 FOR UPDATE""")
                .execute(Tuple.of(w.digest()))
                .flatMap(rows -> {
                    Optional<Row> blob = first(rows);
                    boolean live = blob.isPresent() && blob.get().getBoolean("live");
                    if (!live && uploadedObject == null) {
                        return Uni.createFrom().item(new Saved(SaveOutcome.NEEDS_UPLOAD, null, null));
                    }
                    Uni<String> blobWritten;
                    SaveOutcome outcome;
                    if (live) {
                        outcome = SaveOutcome.SAVED_EXISTING_BLOB;
                        // Touching the row tells a collector that saw it unreferenced to keep it.
                        blobWritten = tx.preparedQuery("UPDATE blobs SET last_access_at = now() WHERE digest = $1")
                                .execute(Tuple.of(w.digest())).replaceWith((String) null);
                    } else {
                        outcome = SaveOutcome.SAVED_NEW_BLOB;
                        String previous = blob.map(r -> r.getString("object_key")).orElse(null);
                        blobWritten = tx.preparedQuery("""
                                        INSERT INTO blobs (digest, size_bytes, object_key) VALUES ($1, $2, $3)
                                        ON CONFLICT (digest) DO UPDATE SET size_bytes = excluded.size_bytes,
                                            object_key = excluded.object_key, created_at = now(), last_access_at = now(),
                                            deleted_at = NULL, verified_at = NULL, quarantined_at = NULL, quarantine_reason = NULL""")
                                .execute(Tuple.of(w.digest(), w.size(), uploadedObject)).replaceWith(previous);
                    }
                    return blobWritten.flatMap(replaced -> writeEntry(tx, w, immutable)
                            .map(id -> id == null ? new Saved(SaveOutcome.CONFLICT, null, replaced) : new Saved(outcome, id, replaced)));
                });
    }

    /** @return the new entry's id, or null when an immutable entry with the key exists */
    private Uni<Long> writeEntry(SqlConnection tx, EntryWrite w, boolean immutable) {
        Tuple key = Tuple.of(w.tenantId(), w.protocol(), w.key(), w.version());
        Uni<Boolean> cleared = immutable
                ? tx.preparedQuery("""
                        SELECT 1 FROM cache_entries WHERE tenant_id = $1 AND protocol = $2 AND cache_key = $3 AND version = $4
                          AND deleted_at IS NULL AND (expires_at IS NULL OR expires_at > now())""")
                        .execute(key).map(rows -> rows.size() == 0)
                : Uni.createFrom().item(true);
        return cleared.flatMap(ok -> {
            if (!ok) {
                return Uni.createFrom().nullItem();
            }
            return tx.preparedQuery("""
                            UPDATE cache_entries SET deleted_at = now(), deleted_reason = 'replaced'
                            WHERE tenant_id = $1 AND protocol = $2 AND cache_key = $3 AND version = $4 AND deleted_at IS NULL""")
                    .execute(key)
                    .flatMap(ignored -> tx.preparedQuery("""
                                    INSERT INTO cache_entries (tenant_id, protocol, cache_key, version, digest, size_bytes,
                                                               repository, branch, expires_at, metadata, lockfile_hash, toolchain)
                                    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) RETURNING id""")
                            .execute(Tuple.from(Arrays.asList(w.tenantId(), w.protocol(), w.key(), w.version(), w.digest(),
                                    w.size(), w.repository(), w.branch(), w.expiresAt(),
                                    w.metadata() == null ? new JsonObject() : w.metadata(),
                                    w.provenance() == null ? null : w.provenance().lockfileHash(),
                                    w.provenance() == null ? null : w.provenance().toolchain()))))
                    .map(rows -> rows.iterator().next().getLong("id"))
                    .flatMap(id -> w.provenance() == null || w.provenance().isEmpty()
                            ? Uni.createFrom().item(id)
                            : tx.preparedQuery("""
                                            INSERT INTO provenance (entry_id, repository, commit_sha, branch, toolchain, build_id,
                                                                    duration_ms, dependency_digests, commit_message)
                                            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)""")
                                    .execute(Tuple.from(Arrays.asList(id, w.provenance().repository(), w.provenance().commit(),
                                            w.provenance().branch(), w.provenance().toolchain(), w.provenance().buildId(),
                                            w.provenance().durationMs(), w.provenance().dependencyDigests(),
                                            w.provenance().commitMessage())))
                                    .replaceWith(id));
        });
    }

    /** The live entry for exactly this key. */
    public Uni<Optional<Hit>> lookup(String tenantId, String protocol, String key, String version) {
        return pool.preparedQuery("SELECT " + HIT_COLUMNS + """
                         AND e.tenant_id = $1 AND e.protocol = $2 AND e.cache_key = $3 AND e.version = $4""")
                .execute(Tuple.of(tenantId, protocol, key, version))
                .map(rows -> first(rows).map(ArtifactIndex::hit));
    }

    /** The live entries among {@code keys}, by key, in one query (REAPI's FindMissingBlobs asks for a thousand at once). */
    public Uni<java.util.Map<String, Hit>> lookupAll(String tenantId, String protocol, java.util.Collection<String> keys, String version) {
        if (keys.isEmpty()) {
            return Uni.createFrom().item(java.util.Map.of());
        }
        return pool.preparedQuery("SELECT " + HIT_COLUMNS + """
                         AND e.tenant_id = $1 AND e.protocol = $2 AND e.cache_key = ANY($3) AND e.version = $4""")
                .execute(Tuple.of(tenantId, protocol, keys.toArray(String[]::new), version))
                .map(rows -> {
                    java.util.Map<String, Hit> found = new java.util.HashMap<>();
                    rows.forEach(r -> {
                        Hit h = hit(r);
                        found.put(h.key(), h);
                    });
                    return found;
                });
    }

    /** A tenant's live entry by id. */
    public Uni<Optional<Hit>> byId(String tenantId, String protocol, long id) {
        return pool.preparedQuery("SELECT " + HIT_COLUMNS + " AND e.tenant_id = $1 AND e.protocol = $2 AND e.id = $3")
                .execute(Tuple.of(tenantId, protocol, id))
                .map(rows -> first(rows).map(ArtifactIndex::hit));
    }

    /** Live entries in the store. */
    public Uni<Long> entryCount() {
        return pool.query("SELECT count(*) AS n FROM cache_entries WHERE deleted_at IS NULL").execute()
                .map(rows -> rows.iterator().next().getLong("n"));
    }

    /**
     * The best entry for {@code candidate} in one branch scope: the exact key, else the most recent
     * entry whose key starts with it.
     */
    public Uni<Optional<Hit>> exactOrPrefix(String tenantId, String protocol, String candidate, String version, String branch) {
        return pool.preparedQuery("SELECT " + HIT_COLUMNS + """
                         AND e.tenant_id = $1 AND e.protocol = $2 AND e.version = $3 AND e.branch = $4
                         AND (e.cache_key = $5 OR e.cache_key LIKE $6 ESCAPE '\\')
                        ORDER BY (e.cache_key = $5) DESC, e.created_at DESC, e.id DESC LIMIT 1""")
                .execute(Tuple.from(List.of(tenantId, protocol, version, branch, candidate, likePrefix(candidate))))
                .map(rows -> first(rows).map(ArtifactIndex::hit));
    }

    /** Records hits: entries' and blobs' last access, for LRU pruning, and each entry's access count. */
    public Uni<Void> touch(java.util.Map<Long, Long> hitsByEntry) {
        if (hitsByEntry.isEmpty()) {
            return Uni.createFrom().voidItem();
        }
        Long[] ids = hitsByEntry.keySet().toArray(Long[]::new);
        Long[] counts = java.util.Arrays.stream(ids).map(hitsByEntry::get).toArray(Long[]::new);
        return pool.preparedQuery("""
                        UPDATE cache_entries e SET last_access_at = now(), access_count = e.access_count + c.n
                        FROM unnest($1::bigint[], $2::bigint[]) AS c(id, n) WHERE e.id = c.id""")
                .execute(Tuple.of(ids, counts))
                .flatMap(ignored -> pool.preparedQuery("""
                                UPDATE blobs SET last_access_at = now()
                                WHERE digest IN (SELECT digest FROM cache_entries WHERE id = ANY($1))""")
                        .execute(Tuple.of(ids)))
                .replaceWithVoid();
    }

    /** Soft-deletes a tenant's entries; {@code protocol} null means every protocol. @return entries hidden */
    public Uni<Integer> invalidate(String tenantId, String protocol, Scope scope, String value, String reason) {
        String condition = switch (scope) {
            case KEY -> "cache_key = $3";
            case PREFIX -> "cache_key LIKE $3 ESCAPE '\\'";
            case REPOSITORY -> "repository = $3";
            case LOCKFILE -> "lockfile_hash = $3";
            // tool@version: entries built with that version of the tool; a bare tool: with any version of it
            case TOOLCHAIN -> value.contains("@") ? "toolchain @> $3::jsonb" : "toolchain ? $3";
        };
        Object argument = switch (scope) {
            case PREFIX -> likePrefix(value);
            case TOOLCHAIN -> value.contains("@")
                    ? new JsonObject().put(value.substring(0, value.indexOf('@')), value.substring(value.indexOf('@') + 1))
                    : value;
            default -> value;
        };
        return pool.preparedQuery("UPDATE cache_entries SET deleted_at = now(), deleted_reason = $4 "
                        + "WHERE tenant_id = $1 AND ($2::text IS NULL OR protocol = $2) AND deleted_at IS NULL AND " + condition)
                .execute(Tuple.from(Arrays.asList(tenantId, protocol, argument, reason)))
                .map(RowSet::rowCount);
    }

    /** What {@link #invalidate} matches on. */
    public enum Scope {
        KEY, PREFIX, REPOSITORY, LOCKFILE, TOOLCHAIN
    }

    /** Soft-deletes expired entries. @return the digests they pointed at */
    public Uni<List<String>> expire() {
        return pool.preparedQuery("""
                        UPDATE cache_entries SET deleted_at = now(), deleted_reason = 'expired'
                        WHERE deleted_at IS NULL AND expires_at <= now() RETURNING digest""")
                .execute().map(ArtifactIndex::digests);
    }

    /** The least recently used live entries, oldest first. */
    public Uni<List<Long>> leastRecentlyUsed(int limit) {
        return pool.preparedQuery("""
                        SELECT id FROM cache_entries WHERE deleted_at IS NULL ORDER BY last_access_at, id LIMIT $1""")
                .execute(Tuple.of(limit))
                .map(rows -> {
                    List<Long> ids = new ArrayList<>();
                    rows.forEach(r -> ids.add(r.getLong("id")));
                    return ids;
                });
    }

    /** Soft-deletes one entry. @return its digest, empty when it was already gone */
    public Uni<Optional<String>> delete(long entryId, String reason) {
        return pool.preparedQuery("""
                        UPDATE cache_entries SET deleted_at = now(), deleted_reason = $2
                        WHERE id = $1 AND deleted_at IS NULL RETURNING digest""")
                .execute(Tuple.of(entryId, reason))
                .map(rows -> first(rows).map(r -> r.getString("digest")));
    }

    /**
     * Marks a blob deleted when no live entry points at it and it was last used before
     * {@code grace} ago. The row lock, then a fresh snapshot, make this safe against a concurrent
     * save: a save holds the lock while it adds its entry and touches the row.
     *
     * @return the blob now doomed, empty when it stays
     */
    public Uni<Optional<Doomed>> markIfUnreferenced(String digest, Duration grace) {
        return pool.withTransaction(tx -> tx.preparedQuery("""
                        SELECT object_key, size_bytes, last_access_at < now() - make_interval(secs => $2) AS old FROM blobs
                        WHERE digest = $1 AND deleted_at IS NULL FOR UPDATE""")
                .execute(Tuple.of(digest, (double) grace.toMillis() / 1000))
                .flatMap(rows -> {
                    Optional<Row> blob = first(rows);
                    if (blob.isEmpty() || !blob.get().getBoolean("old")) {
                        return Uni.createFrom().item(Optional.<Doomed>empty());
                    }
                    Doomed doomed = new Doomed(digest, blob.get().getString("object_key"), blob.get().getLong("size_bytes"));
                    return tx.preparedQuery("SELECT 1 FROM cache_entries WHERE digest = $1 AND deleted_at IS NULL LIMIT 1")
                            .execute(Tuple.of(digest))
                            .flatMap(refs -> refs.size() > 0
                                    ? Uni.createFrom().item(Optional.<Doomed>empty())
                                    : tx.preparedQuery("UPDATE blobs SET deleted_at = now() WHERE digest = $1")
                                            .execute(Tuple.of(digest)).replaceWith(Optional.of(doomed)));
                }));
    }

    /**
     * Marks up to {@code limit} blobs deleted that no live entry points at and that were unused
     * for {@code grace}, least recently used first. Like {@link #markIfUnreferenced}, the rows are
     * locked first (skipping any a save holds) and re-checked in a fresh snapshot, so a save that
     * added an entry meanwhile keeps its blob.
     *
     * @return the blobs now doomed
     */
    public Uni<List<Doomed>> markUnreferenced(int limit, Duration grace) {
        return pool.withTransaction(tx -> tx.preparedQuery("""
                        SELECT b.digest FROM blobs b WHERE b.deleted_at IS NULL
                          AND b.last_access_at < now() - make_interval(secs => $2)
                          AND NOT EXISTS (SELECT 1 FROM cache_entries e WHERE e.digest = b.digest AND e.deleted_at IS NULL)
                        ORDER BY b.last_access_at LIMIT $1 FOR UPDATE OF b SKIP LOCKED""")
                .execute(Tuple.of(limit, (double) grace.toMillis() / 1000))
                .flatMap(rows -> rows.size() == 0 ? Uni.createFrom().item(List.<Doomed>of())
                        : tx.preparedQuery("""
                                        UPDATE blobs b SET deleted_at = now() WHERE b.digest = ANY($1)
                                          AND NOT EXISTS (SELECT 1 FROM cache_entries e WHERE e.digest = b.digest AND e.deleted_at IS NULL)
                                        RETURNING b.digest, b.object_key, b.size_bytes""")
                                .execute(Tuple.of(digests(rows).toArray(String[]::new)))
                                .map(marked -> {
                                    List<Doomed> doomed = new ArrayList<>();
                                    marked.forEach(r -> doomed.add(new Doomed(r.getString("digest"), r.getString("object_key"),
                                            r.getLong("size_bytes"))));
                                    return doomed;
                                })));
    }

    /** Blobs marked deleted whose objects are still to remove. */
    public Uni<List<Doomed>> doomed(int limit) {
        return pool.preparedQuery("SELECT digest, object_key, size_bytes FROM blobs WHERE deleted_at IS NOT NULL LIMIT $1")
                .execute(Tuple.of(limit))
                .map(rows -> {
                    List<Doomed> doomed = new ArrayList<>();
                    rows.forEach(r -> doomed.add(new Doomed(r.getString("digest"), r.getString("object_key"), r.getLong("size_bytes"))));
                    return doomed;
                });
    }

    /** Forgets a collected blob, unless a new upload revived it meanwhile. */
    public Uni<Void> forget(Doomed blob) {
        return pool.preparedQuery("DELETE FROM blobs WHERE digest = $1 AND object_key = $2 AND deleted_at IS NOT NULL")
                .execute(Tuple.of(blob.digest(), blob.objectKey())).replaceWithVoid();
    }

    /** Purges soft-deleted entry rows older than {@code keep}. */
    public Uni<Integer> purgeDeletedEntries(Duration keep) {
        return pool.preparedQuery("DELETE FROM cache_entries WHERE deleted_at < now() - make_interval(secs => $1)")
                .execute(Tuple.of((double) keep.toSeconds())).map(RowSet::rowCount);
    }

    /** Takes a blob out of service: its entries stop being hits. @return true when this call quarantined it */
    public Uni<Boolean> quarantine(String digest, String objectKey, String reason) {
        return pool.preparedQuery("""
                        UPDATE blobs SET quarantined_at = now(), quarantine_reason = $3
                        WHERE digest = $1 AND object_key = $2 AND quarantined_at IS NULL""")
                .execute(Tuple.of(digest, objectKey, reason)).map(rows -> rows.rowCount() > 0);
    }

    /** Live blobs least recently verified first. */
    public Uni<List<Blob>> toVerify(int limit) {
        return pool.preparedQuery("""
                        SELECT digest, size_bytes, object_key FROM blobs WHERE deleted_at IS NULL AND quarantined_at IS NULL
                        ORDER BY verified_at NULLS FIRST, created_at LIMIT $1""")
                .execute(Tuple.of(limit))
                .map(rows -> {
                    List<Blob> blobs = new ArrayList<>();
                    rows.forEach(r -> blobs.add(new Blob(r.getString("digest"), r.getLong("size_bytes"), r.getString("object_key"))));
                    return blobs;
                });
    }

    public Uni<Void> markVerified(String digest, String objectKey) {
        return pool.preparedQuery("UPDATE blobs SET verified_at = now() WHERE digest = $1 AND object_key = $2")
                .execute(Tuple.of(digest, objectKey)).replaceWithVoid();
    }

    /** The store's live blobs: count and bytes (deduplicated: what S3 holds). */
    public Uni<Totals> storeTotals() {
        return pool.query("SELECT count(*) AS n, coalesce(sum(size_bytes), 0) AS bytes FROM blobs WHERE deleted_at IS NULL")
                .execute().map(ArtifactIndex::totals);
    }

    /** A tenant's live entries: count and bytes (each entry counted in full, as its quota sees it). */
    public Uni<Totals> tenantTotals(String tenantId) {
        return pool.preparedQuery("""
                        SELECT count(*) AS n, coalesce(sum(size_bytes), 0) AS bytes FROM cache_entries
                        WHERE tenant_id = $1 AND deleted_at IS NULL""")
                .execute(Tuple.of(tenantId)).map(ArtifactIndex::totals);
    }

    /** A tenant's entries removed within the kept window ({@code keep-deleted-entries}), by reason. */
    public Uni<java.util.Map<String, Long>> removals(String tenantId) {
        return pool.preparedQuery("SELECT deleted_reason, count(*) AS n FROM cache_entries"
                        + " WHERE tenant_id = $1 AND deleted_at IS NOT NULL GROUP BY deleted_reason")
                .execute(Tuple.of(tenantId))
                .map(rows -> {
                    java.util.Map<String, Long> removals = new java.util.TreeMap<>();
                    rows.forEach(r -> removals.put(String.valueOf(r.getString("deleted_reason")), r.getLong("n")));
                    return removals;
                });
    }

    private static final String DESCRIBED = """
            SELECT e.id, e.protocol, e.cache_key, e.version, e.digest, e.size_bytes, e.repository, e.branch,
                   e.created_at, e.last_access_at, e.expires_at, e.metadata, e.access_count, e.lockfile_hash, e.toolchain AS e_toolchain,
                   b.verified_at, b.quarantined_at, b.quarantine_reason,
                   p.repository AS p_repository, p.commit_sha, p.commit_message, p.branch AS p_branch, p.toolchain, p.build_id,
                   p.duration_ms, p.dependency_digests
            FROM cache_entries e JOIN blobs b ON b.digest = e.digest LEFT JOIN provenance p ON p.entry_id = e.id
            WHERE e.tenant_id = $1 AND e.deleted_at IS NULL
            """;

    /** One live entry with its provenance, for the admin API. */
    public Uni<Optional<JsonObject>> describe(String tenantId, String protocol, String key, String version) {
        return pool.preparedQuery(DESCRIBED + " AND e.protocol = $2 AND e.cache_key = $3 AND e.version = $4")
                .execute(Tuple.of(tenantId, protocol, key, version))
                .map(rows -> first(rows).map(ArtifactIndex::described));
    }

    /** A tenant's live entries matching the query, with provenance: newest first, or most used first. */
    public Uni<List<JsonObject>> entries(String tenantId, EntryQuery q) {
        // A JsonObject, not its text: the client would send a String as a JSON string, which contains nothing.
        JsonObject toolchain = q.tool() == null || q.toolVersion() == null ? null : new JsonObject().put(q.tool(), q.toolVersion());
        String order = "accessed".equals(q.sort()) ? "e.access_count DESC, e.last_access_at DESC" : "e.created_at DESC";
        return pool.preparedQuery(DESCRIBED + """
                         AND ($2::text IS NULL OR e.protocol = $2) AND ($3::text IS NULL OR e.repository = $3)
                         AND ($4::text IS NULL OR e.lockfile_hash = $4)
                         AND ($5::text IS NULL OR e.toolchain ? $5) AND ($6::jsonb IS NULL OR e.toolchain @> $6::jsonb)
                        ORDER BY\s""" + order + ", e.id DESC LIMIT $7")
                .execute(Tuple.from(Arrays.asList(tenantId, q.protocol(), q.repository(), q.lockfileHash(), q.tool(), toolchain,
                        q.limit())))
                .map(rows -> {
                    List<JsonObject> entries = new ArrayList<>();
                    rows.forEach(r -> entries.add(described(r)));
                    return entries;
                });
    }

    /** A live entry's provenance (what a dependency cache's lookup answers with); empty when it has none. */
    public Uni<Optional<JsonObject>> provenance(long entryId) {
        return pool.preparedQuery("""
                        SELECT commit_sha, commit_message, branch, build_id, toolchain, duration_ms FROM provenance WHERE entry_id = $1""")
                .execute(Tuple.of(entryId))
                .map(rows -> first(rows).map(r -> new JsonObject().put("commit", r.getString("commit_sha"))
                        .put("commitMessage", r.getString("commit_message")).put("branch", r.getString("branch"))
                        .put("buildId", r.getString("build_id")).put("toolchain", r.getValue("toolchain"))
                        .put("durationMs", r.getLong("duration_ms"))));
    }

    /** Age of each protocol's live entries (for the age gauges). */
    public Uni<List<Ages>> ages() {
        return pool.query("""
                        SELECT protocol, avg(extract(epoch FROM now() - created_at)) AS average,
                               percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM now() - created_at)) AS p90
                        FROM cache_entries WHERE deleted_at IS NULL GROUP BY protocol""")
                .execute()
                .map(rows -> {
                    List<Ages> ages = new ArrayList<>();
                    rows.forEach(r -> ages.add(new Ages(r.getString("protocol"), number(r.getValue("average")), number(r.getValue("p90")))));
                    return ages;
                });
    }

    /** The store's most used live entries. */
    public Uni<List<Popular>> popular(int limit) {
        return pool.preparedQuery("""
                        SELECT tenant_id, protocol, cache_key, access_count FROM cache_entries
                        WHERE deleted_at IS NULL AND access_count > 0 ORDER BY access_count DESC, id LIMIT $1""")
                .execute(Tuple.of(limit))
                .map(rows -> {
                    List<Popular> popular = new ArrayList<>();
                    rows.forEach(r -> popular.add(new Popular(r.getString("tenant_id"), r.getString("protocol"), r.getString("cache_key"),
                            r.getLong("access_count"))));
                    return popular;
                });
    }

    private static double number(Object value) {
        return value instanceof Number n ? n.doubleValue() : 0;
    }

    private static JsonObject described(Row r) {
        JsonObject provenance = new JsonObject().put("repository", r.getString("p_repository"))
                .put("commit", r.getString("commit_sha")).put("commitMessage", r.getString("commit_message"))
                .put("branch", r.getString("p_branch")).put("toolchain", r.getValue("toolchain")).put("buildId", r.getString("build_id"))
                .put("durationMs", r.getLong("duration_ms")).put("dependencyDigests", r.getValue("dependency_digests"));
        return new JsonObject().put("id", r.getLong("id")).put("protocol", r.getString("protocol"))
                .put("key", r.getString("cache_key")).put("version", r.getString("version"))
                .put("digest", r.getString("digest")).put("sizeBytes", r.getLong("size_bytes"))
                .put("repository", r.getString("repository")).put("branch", r.getString("branch"))
                .put("createdAt", str(r.getOffsetDateTime("created_at")))
                .put("lastAccessAt", str(r.getOffsetDateTime("last_access_at")))
                .put("expiresAt", str(r.getOffsetDateTime("expires_at")))
                .put("accessCount", r.getLong("access_count"))
                .put("lockfileHash", r.getString("lockfile_hash"))
                .put("toolchain", r.getValue("e_toolchain"))
                .put("metadata", r.getValue("metadata"))
                .put("verifiedAt", str(r.getOffsetDateTime("verified_at")))
                .put("quarantined", r.getOffsetDateTime("quarantined_at") != null)
                .put("quarantineReason", r.getString("quarantine_reason"))
                .put("provenance", provenance);
    }

    private static String str(OffsetDateTime time) {
        return time == null ? null : time.toString();
    }

    private static Hit hit(Row r) {
        Object metadata = r.getValue("metadata");
        return new Hit(r.getLong("id"), r.getString("cache_key"), r.getString("digest"), r.getLong("size_bytes"),
                r.getString("object_key"), metadata instanceof JsonObject json ? json : new JsonObject(),
                r.getOffsetDateTime("created_at"), r.getString("branch"));
    }

    private static Totals totals(RowSet<Row> rows) {
        Row r = rows.iterator().next();
        return new Totals(r.getLong("n"), r.getLong("bytes"));
    }

    private static List<String> digests(RowSet<Row> rows) {
        List<String> digests = new ArrayList<>();
        rows.forEach(r -> digests.add(r.getString("digest")));
        return digests;
    }

    private static Optional<Row> first(RowSet<Row> rows) {
        return rows.size() == 0 ? Optional.empty() : Optional.of(rows.iterator().next());
    }

    /** {@code value} as a LIKE pattern matching every string that starts with it. */
    static String likePrefix(String value) {
        return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%";
    }

    private static boolean isUniqueViolation(Throwable failure) {
        return failure instanceof PgException pg && "23505".equals(pg.getSqlState());
    }
}
