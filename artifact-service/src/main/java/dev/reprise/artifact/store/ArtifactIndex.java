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
 * The CAS index in PostgreSQL: the cache entries that map a tenant's protocol keys to blobs (content,
 * deduplicated across tenants), written together with their blob rows. An entry is a hit only while it is
 * live, unexpired and its blob is live and not quarantined. The blobs' own lifecycle (collection,
 * quarantine, verification) is {@link BlobIndex}'s; what the admin API reports, {@link EntryReports}'.
 */
@ApplicationScoped
public class ArtifactIndex {

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

    /** Live totals: entries (or blobs) and their bytes. */
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

    /** Purges soft-deleted entry rows older than {@code keep}. */
    public Uni<Integer> purgeDeletedEntries(Duration keep) {
        return pool.preparedQuery("DELETE FROM cache_entries WHERE deleted_at < now() - make_interval(secs => $1)")
                .execute(Tuple.of((double) keep.toSeconds())).map(RowSet::rowCount);
    }

    private static Hit hit(Row r) {
        Object metadata = r.getValue("metadata");
        return new Hit(r.getLong("id"), r.getString("cache_key"), r.getString("digest"), r.getLong("size_bytes"),
                r.getString("object_key"), metadata instanceof JsonObject json ? json : new JsonObject(),
                r.getOffsetDateTime("created_at"), r.getString("branch"));
    }

    static Totals totals(RowSet<Row> rows) {
        Row r = rows.iterator().next();
        return new Totals(r.getLong("n"), r.getLong("bytes"));
    }

    static List<String> digests(RowSet<Row> rows) {
        List<String> digests = new ArrayList<>();
        rows.forEach(r -> digests.add(r.getString("digest")));
        return digests;
    }

    static Optional<Row> first(RowSet<Row> rows) {
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
