package dev.reprise.artifact.store;

import dev.reprise.artifact.store.ArtifactIndex.Totals;
import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonObject;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;

/**
 * What the admin API and the metrics read from the CAS index: a tenant's totals and removals, one entry or a
 * list of them with their provenance, entry ages by protocol, and the most read entries.
 */
@ApplicationScoped
public class EntryReports {

    private final Pool pool;

    public EntryReports(Pool pool) {
        this.pool = pool;
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
                .map(rows -> ArtifactIndex.first(rows).map(EntryReports::described));
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
                .map(rows -> ArtifactIndex.first(rows).map(r -> new JsonObject().put("commit", r.getString("commit_sha"))
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
}
