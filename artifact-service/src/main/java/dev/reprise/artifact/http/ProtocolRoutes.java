package dev.reprise.artifact.http;

import dev.reprise.artifact.config.ArtifactConfig;
import dev.reprise.artifact.service.Cas;
import dev.reprise.artifact.service.Keys;
import dev.reprise.artifact.service.RestoreOrder;
import dev.reprise.artifact.store.ArtifactIndex.Hit;
import io.smallrye.mutiny.Multi;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * The front doors of the one store, each speaking a protocol a build tool already uses, so a team
 * points its existing tool at one base URL:
 * <ul>
 * <li>{@code /bazel/ac/{sha256}}, {@code /bazel/cas/{sha256}}: Bazel's HTTP remote cache (CAS digests verified);</li>
 * <li>{@code /gradle/{key}}: Gradle's HTTP build cache (413 above the entry limit);</li>
 * <li>{@code /ccache/{key path}}: ccache's HTTP remote storage, any layout;</li>
 * <li>{@code /maven/{path}}: the remote cache of Apache Maven's build cache extension (files under a base URL);</li>
 * <li>{@code /v8/artifacts…}: the Turborepo remote cache API;</li>
 * <li>{@code /v1/cache/{hash}}: Nx's self-hosted remote cache API (Nx 20.8+), entries immutable (409 on a second PUT);</li>
 * <li>{@code /api/v1/caches…}: actions/cache-style restore and immutable save;</li>
 * <li>{@code /api/v1/deps…}: the same API for build runners' dependency caches (protocol {@code deps}): a hit's
 * answer carries the entry's provenance, and lookups are counted per repository.</li>
 * </ul>
 * Bodies stream: these are plain Vert.x routes, so nothing buffers an upload in memory.
 */
@ApplicationScoped
public class ProtocolRoutes {

    private static final int JSON_LIMIT = 64 * 1024;
    private static final int MAX_RESTORE_KEYS = 10;
    private static final int MAX_TURBO_QUERY = 1000;
    private static final Pattern DURATION = Pattern.compile("[0-9]{1,12}");

    private final KeyedBlobs blobs;
    private final Exchange exchange;
    private final BlobSender sender;
    private final Cas cas;
    private final ArtifactConfig config;
    private final dev.reprise.artifact.service.DependencyStats dependencies;

    public ProtocolRoutes(KeyedBlobs blobs, Exchange exchange, BlobSender sender, Cas cas, ArtifactConfig config,
            dev.reprise.artifact.service.DependencyStats dependencies) {
        this.dependencies = dependencies;
        this.sender = sender;
        this.blobs = blobs;
        this.exchange = exchange;
        this.cas = cas;
        this.config = config;
    }

    void register(@Observes Router router) {
        route(router, "/bazel/([^/]+)/([^/]+)", this::bazel, HttpMethod.GET, HttpMethod.HEAD, HttpMethod.PUT);
        route(router, "/gradle/(.+)", this::gradle, HttpMethod.GET, HttpMethod.HEAD, HttpMethod.PUT);
        route(router, "/ccache/(.+)", this::ccache, HttpMethod.GET, HttpMethod.HEAD, HttpMethod.PUT);
        // Nx and Maven's resolver read errors only as text (see nx and maven below).
        route(router, "/maven/(.+)", this::maven, exchange::failAsText, HttpMethod.GET, HttpMethod.HEAD, HttpMethod.PUT);
        route(router, "/v8/artifacts/status", ctx -> exchange.handle(ctx, false, Uni.createFrom()::item,
                grant -> exchange.json(ctx, 200, new JsonObject().put("status", "enabled"))), HttpMethod.GET);
        router.postWithRegex("/v8/artifacts/events").order(-1).handler(BodyHandler.create().setBodyLimit(JSON_LIMIT))
                .handler(guarded(this::turboEvents));
        router.postWithRegex("/v8/artifacts/?").order(-1).handler(BodyHandler.create().setBodyLimit(JSON_LIMIT))
                .handler(guarded(this::turboQuery));
        route(router, "/v8/artifacts/([^/]+)", this::turbo, HttpMethod.GET, HttpMethod.HEAD, HttpMethod.PUT);
        route(router, "/v1/cache/([^/]+)", this::nx, exchange::failAsText, HttpMethod.GET, HttpMethod.HEAD, HttpMethod.PUT);
        route(router, "/api/v1/caches", ctx -> actions(ctx, "actions"), HttpMethod.GET, HttpMethod.PUT);
        route(router, "/api/v1/caches/([0-9]{1,18})/archive", ctx -> actionsArchive(ctx, "actions"), HttpMethod.GET, HttpMethod.HEAD);
        route(router, "/api/v1/deps", ctx -> actions(ctx, "deps"), HttpMethod.GET, HttpMethod.PUT);
        route(router, "/api/v1/deps/([0-9]{1,18})/archive", ctx -> actionsArchive(ctx, "deps"), HttpMethod.GET, HttpMethod.HEAD);
    }

    private void route(Router router, String regex, Consumer<RoutingContext> handler, HttpMethod... methods) {
        route(router, regex, handler, exchange::fail, methods);
    }

    /** A door whose clients read errors in their own shape ({@code failed}). */
    private void route(Router router, String regex, Consumer<RoutingContext> handler, BiConsumer<RoutingContext, Throwable> failed,
            HttpMethod... methods) {
        var route = router.routeWithRegex(regex).order(-1);
        for (HttpMethod method : methods) {
            route.method(method);
        }
        route.handler(guarded(handler, failed));
    }

    private io.vertx.core.Handler<RoutingContext> guarded(Consumer<RoutingContext> handler) {
        return guarded(handler, exchange::fail);
    }

    /** A key or parameter refused before the work starts is answered like any other refusal of the door. */
    private io.vertx.core.Handler<RoutingContext> guarded(Consumer<RoutingContext> handler, BiConsumer<RoutingContext, Throwable> failed) {
        return ctx -> {
            try {
                handler.accept(ctx);
            } catch (ArtifactException e) {
                ctx.request().pause();
                failed.accept(ctx, e);
            }
        };
    }

    // --- Bazel HTTP remote cache ---------------------------------------------------------------

    private void bazel(RoutingContext ctx) {
        String kind = ctx.pathParam("param0");
        if (!kind.equals("ac") && !kind.equals("cas")) {
            throw new ArtifactException(404, "not-found", "unknown Bazel cache '" + kind + "': use /bazel/ac/{sha256} or /bazel/cas/{sha256}");
        }
        String hash = Keys.sha256(ctx.pathParam("param1"), "the digest in the path");
        String protocol = "bazel-" + kind;
        if (ctx.request().method() == HttpMethod.PUT) {
            KeyedBlobs.Put put = KeyedBlobs.Put.of(config.maxBlobBytes(), "the Bazel cache");
            if (kind.equals("cas")) {
                put = put.refusing(upload -> upload.digest().equals(hash) ? null
                        : "digest mismatch: the body's sha256 is " + upload.digest() + " but the path says " + hash + "; nothing was stored");
            }
            blobs.put(ctx, protocol, hash, put, (c, id) -> exchange.status(c, 200));
        } else if (kind.equals("cas") && hash.equals(Keys.EMPTY_SHA256)) {
            // The empty blob always exists: no entry, no upload, nothing to verify.
            exchange.handle(ctx, false, Uni.createFrom()::item, grant -> {
                cas.hitWithoutBody(grant.tenantId(), protocol, null);
                ctx.response().putHeader(HttpHeaders.CONTENT_LENGTH, "0").putHeader(HttpHeaders.CONTENT_TYPE, "application/octet-stream").end();
            });
        } else {
            blobs.get(ctx, protocol, hash, "", hit -> Map.of());
        }
    }

    // --- Gradle HTTP build cache and ccache HTTP remote storage: a path key to a blob ---------

    private void gradle(RoutingContext ctx) {
        pathKeyed(ctx, "gradle", "the Gradle cache key", config.gradleMaxEntryBytes(), "the Gradle build cache");
    }

    private void ccache(RoutingContext ctx) {
        pathKeyed(ctx, "ccache", "the ccache key", config.maxBlobBytes(), "ccache storage");
    }

    /**
     * Apache Maven's build cache extension: its remote cache is files under a base URL (build info,
     * artifacts). Errors are text: Maven's resolver turns an RFC 9457 problem into an exception it does
     * not classify, so a problem-JSON 404 would be logged as a failed download instead of a miss.
     */
    private void maven(RoutingContext ctx) {
        String key = Keys.pathKey(ctx.pathParam("param0"), "the Maven build cache path");
        if (ctx.request().method() == HttpMethod.PUT) {
            blobs.put(ctx, "maven", key, KeyedBlobs.Put.of(config.maxBlobBytes(), "the Maven build cache"),
                    (c, id) -> exchange.status(c, 200), exchange::failAsText);
        } else {
            blobs.get(ctx, "maven", key, "", hit -> Map.of(), exchange::failAsText);
        }
    }

    private void pathKeyed(RoutingContext ctx, String protocol, String what, long limit, String limitHint) {
        String key = Keys.pathKey(ctx.pathParam("param0"), what);
        if (ctx.request().method() == HttpMethod.PUT) {
            blobs.put(ctx, protocol, key, KeyedBlobs.Put.of(limit, limitHint), (c, id) -> exchange.status(c, 200));
        } else {
            blobs.get(ctx, protocol, key, "", hit -> Map.of());
        }
    }

    // --- Turborepo remote cache ----------------------------------------------------------------

    private void turbo(RoutingContext ctx) {
        String hash = Keys.token(ctx.pathParam("param0"), "the artifact hash");
        String key = turboKey(ctx, hash);
        if (ctx.request().method() == HttpMethod.PUT) {
            JsonObject metadata = new JsonObject();
            String duration = ctx.request().getHeader("x-artifact-duration");
            if (duration != null) {
                if (!DURATION.matcher(duration.strip()).matches()) {
                    throw ArtifactException.badRequest("x-artifact-duration must be a whole number of milliseconds");
                }
                metadata.put("duration", Long.parseLong(duration.strip()));
            }
            String tag = ctx.request().getHeader("x-artifact-tag");
            if (tag != null) {
                if (tag.length() > 1024 || !tag.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
                    throw ArtifactException.badRequest("x-artifact-tag must be at most 1024 printable ASCII characters");
                }
                metadata.put("tag", tag);
            }
            blobs.put(ctx, "turbo", key, KeyedBlobs.Put.of(config.maxBlobBytes(), "the Turborepo cache").withMetadata(metadata),
                    (c, id) -> exchange.json(c, 202, new JsonObject().put("urls", new JsonArray().add(c.request().path()))));
        } else {
            blobs.get(ctx, "turbo", key, "", ProtocolRoutes::turboHeaders);
        }
    }

    private static Map<String, String> turboHeaders(Hit hit) {
        Map<String, String> headers = new LinkedHashMap<>();
        if (hit.metadata().containsKey("duration")) {
            headers.put("x-artifact-duration", String.valueOf(hit.metadata().getValue("duration")));
        }
        if (hit.metadata().containsKey("tag")) {
            headers.put("x-artifact-tag", hit.metadata().getString("tag"));
        }
        return headers;
    }

    // --- Nx self-hosted remote cache ------------------------------------------------------------

    /**
     * Nx's OpenAPI contract: GET answers the task's tar archive (404 when absent), PUT stores one
     * with its Content-Length (400 without), 401/403 for a missing or read-only token. A task hash
     * names its outputs for good: a second PUT of a hash is 409, refused before its body is read,
     * so nobody replaces what a teammate's build restores.
     */
    private void nx(RoutingContext ctx) {
        // Nx reads every error as text (it calls a JSON 401 a "misconfigured remote cache endpoint").
        BiConsumer<RoutingContext, Throwable> failed = exchange::failAsText;
        String hash = Keys.token(ctx.pathParam("param0"), "the task hash");
        if (ctx.request().method() == HttpMethod.PUT && ctx.request().getHeader(HttpHeaders.CONTENT_LENGTH) == null) {
            throw ArtifactException.badRequest("Content-Length is required: send the archive's size in bytes (Nx does)");
        }
        if (ctx.request().method() != HttpMethod.PUT) {
            blobs.get(ctx, "nx", hash, "", hit -> Map.of(), failed);
            return;
        }
        ctx.request().pause();
        exchange.handle(ctx, true, grant -> cas.lookup(grant.tenantId(), "nx", hash, ""), existing -> {
            if (existing.isPresent()) {
                failed.accept(ctx, new ArtifactException(409, "exists", "task " + hash
                        + " is already cached; its outputs are immutable (Nx's contract: a record is never overridden)"));
                return;
            }
            blobs.put(ctx, "nx", hash, KeyedBlobs.Put.of(config.maxBlobBytes(), "the Nx cache").immutable("", null),
                    (c, id) -> exchange.status(c, 200), failed);
        }, failure -> failed.accept(ctx, failure));
    }

    /** Artifacts are scoped by team (slug or teamId) inside the token's tenant. */
    private static String turboKey(RoutingContext ctx, String hash) {
        String team = ctx.request().getParam("slug");
        if (team == null) {
            team = ctx.request().getParam("teamId");
        }
        return team == null || team.isEmpty() ? hash : Keys.token(team, "the team (slug or teamId)") + "/" + hash;
    }

    /** {@code POST /v8/artifacts}: which of these hashes are cached, with size, duration and tag. */
    private void turboQuery(RoutingContext ctx) {
        JsonObject body = jsonBody(ctx);
        if (!(body.getValue("hashes") instanceof JsonArray hashes) || hashes.size() > MAX_TURBO_QUERY) {
            throw ArtifactException.badRequest("the body must be {\"hashes\": [...]} with at most " + MAX_TURBO_QUERY + " hashes");
        }
        List<String> keys = new ArrayList<>();
        for (Object hash : hashes) {
            if (!(hash instanceof String text)) {
                throw ArtifactException.badRequest("every hash must be a string");
            }
            keys.add(Keys.token(text, "hash"));
        }
        exchange.handle(ctx, false, grant -> Multi.createFrom().iterable(keys)
                .onItem().transformToUniAndConcatenate(hash -> cas.lookup(grant.tenantId(), "turbo", turboKey(ctx, hash), "")
                        .map(hit -> Map.entry(hash, hit)))
                .collect().asList(), found -> {
                    JsonObject answer = new JsonObject();
                    for (Map.Entry<String, Optional<Hit>> entry : found) {
                        answer.put(entry.getKey(), entry.getValue().map(hit -> new JsonObject().put("size", hit.size())
                                .put("taskDurationMs", hit.metadata().getValue("duration", 0))
                                .put("tag", hit.metadata().getString("tag"))).orElse(null));
                    }
                    exchange.json(ctx, 200, answer);
                });
    }

    /** {@code POST /v8/artifacts/events}: turbo's hit and miss reports; checked and acknowledged. */
    private void turboEvents(RoutingContext ctx) {
        Object body;
        try {
            body = ctx.body().asJsonArray();
        } catch (RuntimeException e) {
            throw ArtifactException.badRequest("the body must be a JSON array of cache events");
        }
        if (body == null) {
            throw ArtifactException.badRequest("the body must be a JSON array of cache events");
        }
        exchange.handle(ctx, false, Uni.createFrom()::item, grant -> exchange.status(ctx, 200));
    }

    // --- actions/cache-style restore and save ----------------------------------------------------

    /** The door of a paths-cache protocol: {@code actions} at /api/v1/caches, {@code deps} at /api/v1/deps. */
    private static String door(String protocol) {
        return "deps".equals(protocol) ? "/api/v1/deps/" : "/api/v1/caches/";
    }

    private void actions(RoutingContext ctx, String protocol) {
        String key = Keys.cacheKey(ctx.request().getParam("key"), "key");
        String version = version(ctx);
        String branch = Keys.branch(ctx.request().getParam("branch"));
        if (ctx.request().method() == HttpMethod.PUT) {
            String scope = branch == null ? config.defaultBranch() : branch;
            // Entries are immutable: refuse before a byte of the archive is read (and again at commit).
            ctx.request().pause();
            exchange.handle(ctx, true, grant -> cas.restore(grant.tenantId(), protocol, version,
                    List.of(new RestoreOrder.Attempt(key, scope))).map(hit -> hit.filter(h -> h.key().equals(key))), existing -> {
                if (existing.isPresent()) {
                    exchange.fail(ctx, new ArtifactException(409, "exists", "an entry with key '" + key + "' and version '" + version
                            + "' already exists on branch '" + scope + "'; entries are immutable, save under a new key"));
                    return;
                }
                blobs.put(ctx, protocol, key, KeyedBlobs.Put.of(config.maxBlobBytes(), "the " + protocol + " cache").immutable(version, scope),
                        (c, id) -> exchange.json(c, 201, new JsonObject().put("id", id).put("key", key).put("version", version)
                                .put("branch", scope).put("archiveUrl", door(protocol) + id + "/archive")));
            });
            return;
        }
        List<String> restoreKeys = new ArrayList<>();
        for (String value : ctx.queryParam("restoreKeys")) {
            for (String part : value.split(",")) {
                if (!part.isBlank()) {
                    restoreKeys.add(Keys.cacheKey(part.strip(), "each restore key"));
                }
            }
        }
        if (restoreKeys.size() > MAX_RESTORE_KEYS) {
            throw ArtifactException.badRequest("at most " + MAX_RESTORE_KEYS + " restore keys");
        }
        List<RestoreOrder.Attempt> attempts = RestoreOrder.attempts(key, restoreKeys, branch, config.defaultBranch());
        String repository = "deps".equals(protocol) ? ctx.request().getHeader("X-Reprise-Repository") : null;
        exchange.handle(ctx, false, grant -> cas.restore(grant.tenantId(), protocol, version, attempts).invoke(hit -> {
            if (hit.isEmpty()) {
                cas.missed(grant.tenantId(), protocol);
            }
            if (repository != null) {
                dependencies.lookup(repository, hit.isEmpty() ? "miss" : hit.get().key().equals(key) ? "hit" : "partial");
            }
        }).chain(hit -> hit.isEmpty() || !"deps".equals(protocol) ? Uni.createFrom().item(Map.entry(hit, Optional.<JsonObject>empty()))
                : cas.provenance(hit.get().entryId()).map(p -> Map.entry(hit, p))), found -> {
            Optional<Hit> hit = found.getKey();
            if (hit.isEmpty()) {
                exchange.status(ctx, 204);
                return;
            }
            Hit h = hit.get();
            JsonObject answer = new JsonObject().put("id", h.entryId()).put("key", key).put("matchedKey", h.key())
                    .put("exact", h.key().equals(key)).put("version", version).put("branch", h.branch())
                    .put("sizeBytes", h.size()).put("digest", h.digest()).put("createdAt", h.createdAt().toString())
                    .put("archiveUrl", door(protocol) + h.entryId() + "/archive");
            found.getValue().ifPresent(p -> answer.put("provenance", p));
            exchange.json(ctx, 200, answer);
        });
    }

    private void actionsArchive(RoutingContext ctx, String protocol) {
        long id = Long.parseLong(ctx.pathParam("param0"));
        boolean head = ctx.request().method() == HttpMethod.HEAD;
        exchange.handle(ctx, false, grant -> cas.byId(grant.tenantId(), protocol, id).chain(hit -> hit.isEmpty() || head
                ? Uni.createFrom().item(hit.map(h -> Map.entry(h, Optional.<Cas.BlobFile>empty())))
                : cas.open(grant.tenantId(), protocol, hit.get()).map(path -> path.map(p -> Map.entry(hit.get(), Optional.of(p))))),
                served -> {
                    if (served.isEmpty()) {
                        exchange.miss(ctx);
                    } else {
                        sender.sendFile(ctx, served.get().getValue().orElse(null), served.get().getKey().size(), Map.of());
                    }
                });
    }

    private static String version(RoutingContext ctx) {
        String version = ctx.request().getParam("version");
        return version == null || version.isEmpty() ? "" : Keys.token(version, "version");
    }

    /** The request's JSON object, or a 400 that says it is not one. */
    static JsonObject jsonBody(RoutingContext ctx) {
        try {
            JsonObject body = ctx.body().asJsonObject();
            if (body == null) {
                throw ArtifactException.badRequest("the body must be a JSON object");
            }
            return body;
        } catch (io.vertx.core.json.DecodeException | ClassCastException e) {
            throw ArtifactException.badRequest("the body is not a JSON object: " + e.getMessage());
        }
    }
}
