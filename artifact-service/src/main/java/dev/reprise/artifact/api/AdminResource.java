package dev.reprise.artifact.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.reprise.artifact.http.ArtifactException;
import dev.reprise.artifact.http.ProvenanceHeaders;
import dev.reprise.artifact.service.ArtifactMetrics;
import dev.reprise.artifact.service.IntegrityCheck;
import dev.reprise.artifact.service.Keys;
import dev.reprise.artifact.service.Lifecycle;
import dev.reprise.artifact.service.StagedSaves;
import dev.reprise.artifact.store.ArtifactIndex;
import dev.reprise.artifact.store.ArtifactIndex.Scope;
import dev.reprise.artifact.store.EntryReports;
import dev.reprise.artifact.store.BlobIndex;
import dev.reprise.artifact.store.LocalBlobs;
import dev.reprise.auth.Grant;
import dev.reprise.auth.OperatorOnly;
import dev.reprise.auth.TokenVerifier;
import io.smallrye.mutiny.Uni;
import io.vertx.core.json.JsonObject;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.time.Duration;
import java.util.Map;

/**
 * The store's admin API. A tenant's own entries: stats, describe (with provenance), invalidate.
 * Actions over the whole store, every tenant's data (prune, collect, integrity, the store's
 * totals), are an operator's: {@link OperatorOnly} (auth-support's guard lets nothing less
 * through; a tenant's admin token is a tenant's token).
 */
@Path("/api/v1/artifacts")
@Produces(MediaType.APPLICATION_JSON)
public class AdminResource {

    /** The caller's tenant's figures, and the store's for an operator. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Stats(TenantStats tenant, StoreStats store) {
    }

    /** A tenant's live entries and bytes, this instance's hits and misses for it, and its removals of the last days by reason. */
    public record TenantStats(String tenantId, long entries, long bytes, long hits, long misses, double hitRate,
            Map<String, Long> removed) {
    }

    /** The store's live blobs and bytes, and this instance's local copies. */
    public record StoreStats(long blobs, long bytes, long localCacheBytes) {
    }

    /** What an invalidation hid: its scope (key, prefix, repository, toolchain, lockfile), the value and how many entries. */
    public record Invalidated(String scope, String value, int removed) {
    }

    private static final java.util.Set<String> PROTOCOLS = java.util.Set.copyOf(ArtifactMetrics.PROTOCOLS);

    private final TokenVerifier verifier;
    private final EntryReports reports;
    private final BlobIndex blobs;
    private final Lifecycle lifecycle;
    private final IntegrityCheck integrity;
    private final ArtifactMetrics metrics;
    private final LocalBlobs local;
    private final StagedSaves staged;

    public AdminResource(TokenVerifier verifier, EntryReports reports, BlobIndex blobs, Lifecycle lifecycle, IntegrityCheck integrity,
            ArtifactMetrics metrics, LocalBlobs local, StagedSaves staged) {
        this.verifier = verifier;
        this.reports = reports;
        this.blobs = blobs;
        this.lifecycle = lifecycle;
        this.integrity = integrity;
        this.metrics = metrics;
        this.local = local;
        this.staged = staged;
    }

    /**
     * The tenant's entries and bytes, this instance's hit and miss counts for it, and its entries
     * removed (evicted) in the last days by reason (expired, pruned, invalidated, replaced); store
     * totals for operators.
     */
    @GET
    @Path("/stats")
    public Uni<Stats> stats(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization) {
        return reader(authorization).chain(grant -> reports.tenantTotals(grant.tenantId())
                .chain(tenant -> reports.removals(grant.tenantId()).map(removals -> Map.entry(tenant, removals))).chain(found -> {
            ArtifactIndex.Totals tenant = found.getKey();
            ArtifactMetrics.TenantCounts counts = metrics.counts(grant.tenantId());
            long lookups = counts.hits() + counts.misses();
            TenantStats mine = new TenantStats(grant.tenantId(), tenant.entries(), tenant.bytes(), counts.hits(), counts.misses(),
                    lookups == 0 ? 0.0 : (double) counts.hits() / lookups, found.getValue());
            if (!grant.isOperator()) {
                return Uni.createFrom().item(new Stats(mine, null));
            }
            return blobs.storeTotals().map(store -> new Stats(mine, new StoreStats(store.entries(), store.bytes(), local.cachedBytes())));
        }));
    }

    /**
     * With {@code protocol} and {@code key}: one entry of the tenant's, with its blob's state and
     * provenance. Without {@code key}: the tenant's entries (newest first, or {@code sort=accessed}:
     * most used first), optionally only one protocol's, one repository's, those built with a
     * {@code toolchain} ({@code node}, or {@code node@20.11.1}) or from one {@code lockfile} hash.
     */
    @GET
    @Path("/entries")
    public Uni<Response> describe(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization, @QueryParam("protocol") String protocol,
            @QueryParam("key") String key, @QueryParam("version") String version, @QueryParam("repository") String repository,
            @QueryParam("toolchain") String toolchain, @QueryParam("lockfile") String lockfile, @QueryParam("sort") String sort,
            @QueryParam("limit") String limit) {
        if (key == null || key.isEmpty()) {
            if (sort != null && !sort.equals("newest") && !sort.equals("accessed")) {
                throw ArtifactException.badRequest("sort must be newest or accessed");
            }
            int n;
            try {
                n = limit == null ? 50 : Integer.parseInt(limit);
            } catch (NumberFormatException e) {
                n = -1;
            }
            if (n < 1 || n > 500) {
                throw ArtifactException.badRequest("limit must be between 1 and 500");
            }
            String[] tool = toolchain == null ? null : toolchain(toolchain);
            EntryReports.EntryQuery query = new EntryReports.EntryQuery(protocol(protocol, false),
                    repository == null ? null : ProvenanceHeaders.normalizedRepository(repository), tool == null ? null : tool[0],
                    tool == null ? null : tool[1], lockfile == null ? null : lockfile(lockfile), sort, n);
            return reader(authorization).chain(grant -> reports.entries(grant.tenantId(), query))
                    .map(entries -> Response.ok(new io.vertx.core.json.JsonObject().put("entries", new io.vertx.core.json.JsonArray(entries))
                            .encode()).build());
        }
        String p = protocol(protocol, true);
        return reader(authorization).chain(grant -> reports.describe(grant.tenantId(), p, key, version == null ? "" : version))
                .map(entry -> entry.map(e -> Response.ok(e.encode()).build())
                        .orElseThrow(() -> new ArtifactException(404, "not-found", "no live " + p + " entry with key '" + key + "'")));
    }

    /**
     * Hides the tenant's entries at once, by exact {@code key}, key {@code prefix}, {@code repository}
     * (any spelling of its URL), {@code toolchain} (entries built with a tool, {@code node}, or one
     * version of it, {@code node@20.11.1}) or {@code lockfile} hash, optionally in one protocol;
     * space is freed later.
     */
    @DELETE
    @Path("/entries")
    public Uni<Invalidated> invalidate(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization,
            @QueryParam("protocol") String protocol, @QueryParam("key") String key, @QueryParam("prefix") String prefix,
            @QueryParam("repository") String repository, @QueryParam("toolchain") String toolchain,
            @QueryParam("lockfile") String lockfile) {
        String p = protocol(protocol, false);
        int given = (key != null ? 1 : 0) + (prefix != null ? 1 : 0) + (repository != null ? 1 : 0) + (toolchain != null ? 1 : 0)
                + (lockfile != null ? 1 : 0);
        if (given != 1) {
            throw ArtifactException.badRequest("give exactly one of key, prefix, repository, toolchain or lockfile");
        }
        Scope scope = key != null ? Scope.KEY : prefix != null ? Scope.PREFIX : repository != null ? Scope.REPOSITORY
                : toolchain != null ? Scope.TOOLCHAIN : Scope.LOCKFILE;
        String value = switch (scope) {
            case KEY -> Keys.cacheKey(key, "key");
            case PREFIX -> Keys.cacheKey(prefix, "prefix");
            case REPOSITORY -> ProvenanceHeaders.normalizedRepository(repository);
            case TOOLCHAIN -> String.join("@", java.util.Arrays.stream(toolchain(toolchain)).filter(java.util.Objects::nonNull).toList());
            case LOCKFILE -> lockfile(lockfile);
        };
        return writer(authorization).chain(grant -> lifecycle.invalidate(grant.tenantId(), p, scope, value))
                .map(count -> new Invalidated(scope.name().toLowerCase(java.util.Locale.ROOT), value, count));
    }

    /** Prunes least recently used entries until the store fits {@code maxBytes} (operator). */
    @POST
    @Path("/prune")
    @OperatorOnly
    public Uni<Lifecycle.Pruned> prune(@QueryParam("maxBytes") Long maxBytes) {
        if (maxBytes == null || maxBytes < 0) {
            throw ArtifactException.badRequest("maxBytes is required: the size in bytes to prune the store to");
        }
        return lifecycle.prune(maxBytes);
    }

    /** Expires entries and frees the space of unreferenced blobs now (operator). */
    @POST
    @Path("/collect")
    @OperatorOnly
    public Uni<Lifecycle.Collected> collect() {
        return lifecycle.expire().chain(() -> lifecycle.collect(Duration.ZERO));
    }

    /** Re-hashes up to {@code batch} blobs now, quarantining any that no longer match (operator). */
    @POST
    @Path("/integrity")
    @OperatorOnly
    public Uni<IntegrityCheck.Report> integrity(@QueryParam("batch") Integer batch) {
        int size = batch == null ? 200 : batch;
        if (size < 1 || size > 100_000) {
            throw ArtifactException.badRequest("batch must be between 1 and 100000");
        }
        return integrity.run(size);
    }

    /**
     * The caller's grant, once the tenant's saves acknowledged on this instance are in the index
     * (write-behind: a listing right after a save shows it). Waits briefly; a store away does not
     * hold the read (it then shows what is stored).
     */
    private Uni<Grant> reader(String authorization) {
        return verifier.verify(authorization).call(grant -> staged.stored(grant.tenantId(), READ_YOUR_WRITES)
                .onFailure().recoverWithNull());
    }

    private static final Duration READ_YOUR_WRITES = Duration.ofSeconds(2);

    private Uni<Grant> writer(String authorization) {
        return verifier.verify(authorization).invoke(grant -> {
            if (!grant.canWrite()) {
                throw ArtifactException.forbidden("this token is read-only: use a read-write token to invalidate entries");
            }
        });
    }

    /** {@code tool} or {@code tool@version}: the tool and the version (null for any). */
    private static String[] toolchain(String value) {
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("([A-Za-z0-9_.+-]{1,64})(?:@([A-Za-z0-9_.+-]{1,64}))?").matcher(value);
        if (!m.matches()) {
            throw ArtifactException.badRequest("toolchain must be a tool name or tool@version, e.g. node or node@20.11.1");
        }
        return new String[] {m.group(1), m.group(2)};
    }

    private static String lockfile(String value) {
        if (!value.matches("[0-9a-f]{64}")) {
            throw ArtifactException.badRequest("lockfile must be the lockfile hash of an entry (64 lowercase hex characters)");
        }
        return value;
    }

    private static String protocol(String protocol, boolean required) {
        if (protocol == null || protocol.isEmpty()) {
            if (required) {
                throw ArtifactException.badRequest("protocol is required, one of " + ArtifactMetrics.PROTOCOLS);
            }
            return null;
        }
        if (!PROTOCOLS.contains(protocol)) {
            throw ArtifactException.badRequest("unknown protocol '" + protocol + "': use one of " + ArtifactMetrics.PROTOCOLS);
        }
        return protocol;
    }
}
