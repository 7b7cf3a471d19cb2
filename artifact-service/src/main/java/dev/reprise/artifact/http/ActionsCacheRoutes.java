package dev.reprise.artifact.http;

import dev.reprise.web.ProblemException;
import dev.reprise.artifact.config.ArtifactConfig;
import dev.reprise.artifact.http.SignedUrls.Purpose;
import dev.reprise.artifact.service.ActionsUploads;
import dev.reprise.artifact.service.ActionsUploads.Scope;
import dev.reprise.artifact.service.Cas;
import dev.reprise.artifact.service.Keys;
import dev.reprise.artifact.service.RestoreOrder;
import dev.reprise.artifact.store.ArtifactIndex.Hit;
import dev.reprise.auth.Grant;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpHeaders;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.HostAndPort;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import jakarta.enterprise.context.ApplicationScoped;
import jakarta.enterprise.event.Observes;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.function.Consumer;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * GitHub Actions' cache service, both versions its toolkit ({@code @actions/cache}, read at 6.3.0)
 * speaks, over the one store: a workflow points {@code ACTIONS_CACHE_URL} (v1, what the toolkit
 * uses whenever {@code GITHUB_SERVER_URL} is not github.com) or {@code ACTIONS_RESULTS_URL} (v2)
 * at this service, with a Reprise API token as {@code ACTIONS_RUNTIME_TOKEN}, and changes nothing else.
 * <ul>
 * <li>v1, {@code [/branch/{branch}]/_apis/artifactcache/}: {@code GET cache?keys=&version=} (204 on a
 * miss), {@code POST caches} (reserve), {@code PATCH caches/{id}} with {@code Content-Range} (chunks,
 * any order), {@code POST caches/{id}} (commit). The optional branch prefix scopes saves to that
 * branch; restores try it, then the default branch.</li>
 * <li>v2, Twirp JSON {@code /twirp/github.actions.results.api.v1.CacheService/}: CreateCacheEntry,
 * FinalizeCacheEntryUpload, GetCacheEntryDownloadURL; the upload URL takes the blob-service requests
 * the toolkit's Azure SDK makes (one PUT, or blocks and a block list), every one answered 201.</li>
 * <li>Archives are downloaded from signed, expiring URLs scoped to one entry ({@link SignedUrls}):
 * the toolkit sends no token there.</li>
 * </ul>
 * Entries are the same as {@code /api/v1/caches}' (protocol {@code actions}): keys, versions,
 * prefix matching with restore keys, branch scopes and immutability as GitHub documents them.
 */
@ApplicationScoped
public class ActionsCacheRoutes {

    static final String V1 = "/_apis/artifactcache/";
    static final String TWIRP = "/twirp/github.actions.results.api.v1.CacheService/";
    /** The upload URL's path: three segments, as the Azure SDK's parser wants (account, container, blob). */
    static final String UPLOADS = "/actions-cache/uploads/";
    private static final String BRANCH_PREFIX = "(?:/branch/[^/]+)?";
    private static final int JSON_LIMIT = 64 * 1024;
    private static final int BLOCK_LIST_LIMIT = 4 << 20;
    private static final int MAX_KEYS = 10;
    private static final Pattern CONTENT_RANGE = Pattern.compile("bytes ([0-9]{1,15})-([0-9]{1,15})/(\\*|[0-9]{1,15})");
    private static final Pattern BLOCK_ID = Pattern.compile("[A-Za-z0-9+/=]{1,128}");
    private static final Pattern BLOCK_LIST_ID = Pattern.compile("<(Latest|Committed|Uncommitted)>([^<]*)</\\1>");
    private static final Pattern INT64 = Pattern.compile("[0-9]{1,18}");
    private static final Set<String> CREATE_FIELDS = Set.of("key", "version", "metadata");
    private static final Set<String> FINALIZE_FIELDS = Set.of("key", "version", "size_bytes", "sizeBytes", "metadata");
    private static final Set<String> DOWNLOAD_FIELDS = Set.of("key", "version", "restore_keys", "restoreKeys", "metadata");

    private final Exchange exchange;
    private final UploadSpool spool;
    private final BlobSender sender;
    private final Cas cas;
    private final ActionsUploads uploads;
    private final SignedUrls signed;
    private final ArtifactConfig config;

    public ActionsCacheRoutes(Exchange exchange, UploadSpool spool, BlobSender sender, Cas cas, ActionsUploads uploads, SignedUrls signed,
            ArtifactConfig config) {
        this.spool = spool;
        this.sender = sender;
        this.exchange = exchange;
        this.cas = cas;
        this.uploads = uploads;
        this.signed = signed;
        this.config = config;
    }

    void register(@Observes Router router) {
        router.routeWithRegex(HttpMethod.GET, BRANCH_PREFIX + V1 + "cache").order(-1).handler(v1(this::lookup));
        router.routeWithRegex(HttpMethod.POST, BRANCH_PREFIX + V1 + "caches").order(-1)
                .handler(BodyHandler.create().setBodyLimit(JSON_LIMIT)).handler(v1(this::reserve));
        router.routeWithRegex(HttpMethod.PATCH, BRANCH_PREFIX + V1 + "caches/([0-9]{1,16})").order(-1).handler(v1(this::chunk));
        router.routeWithRegex(HttpMethod.POST, BRANCH_PREFIX + V1 + "caches/([0-9]{1,16})").order(-1)
                .handler(BodyHandler.create().setBodyLimit(JSON_LIMIT)).handler(v1(this::commit));
        router.routeWithRegex(HttpMethod.GET, V1 + "archive/([0-9]{1,18})").order(-1).handler(v1(this::archive));
        router.routeWithRegex(HttpMethod.POST, TWIRP.replace(".", "\\.") + "([A-Za-z]+)").order(-1)
                .handler(BodyHandler.create().setBodyLimit(JSON_LIMIT)).handler(this::twirp);
        router.routeWithRegex(HttpMethod.PUT, UPLOADS + "([0-9]{1,16})").order(-1).handler(this::blob);
    }

    // --- v1 -----------------------------------------------------------------------------------

    private io.vertx.core.Handler<RoutingContext> v1(Consumer<RoutingContext> handler) {
        return ctx -> {
            try {
                handler.accept(ctx);
            } catch (RuntimeException e) {
                ctx.request().pause();
                v1Fail(ctx, e);
            }
        };
    }

    /** v1 errors: problem JSON with the toolkit's {@code message} beside {@code detail} (it logs that field). */
    private void v1Fail(RoutingContext ctx, Throwable failure) {
        ProblemException p = exchange.problemOf(ctx, failure);
        JsonObject body = new JsonObject().put("type", "https://reprise.dev/problems/" + p.type()).put("status", p.status())
                .put("detail", p.getMessage()).put("message", p.getMessage());
        exchange.error(ctx, p.status(), p.headers(), "application/json", body.encode());
    }

    private <T> void v1Handle(RoutingContext ctx, boolean write, Function<Grant, Uni<T>> work, Consumer<T> answer) {
        exchange.handle(ctx, write, work, answer, failure -> v1Fail(ctx, failure));
    }

    /** {@code GET cache?keys=k1,k2&version=v}: the newest entry the keys find (exact, then prefix, key by key), or 204. */
    private void lookup(RoutingContext ctx) {
        List<String> keys = keyList(ctx.request().getParam("keys"));
        String version = version(ctx.request().getParam("version"));
        String branch = branch(ctx);
        List<RestoreOrder.Attempt> attempts = RestoreOrder.attempts(keys.get(0), keys.subList(1, keys.size()), branch, config.defaultBranch());
        v1Handle(ctx, false, grant -> restore(grant, version, attempts), found -> {
            if (found.isEmpty()) {
                exchange.status(ctx, 204);
                return;
            }
            Hit hit = found.get().getValue();
            exchange.json(ctx, 200, new JsonObject().put("cacheKey", hit.key()).put("scope", hit.branch()).put("cacheVersion", version)
                    .put("creationTime", hit.createdAt().withOffsetSameInstant(ZoneOffset.UTC).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME))
                    .put("archiveLocation", downloadUrl(ctx, found.get().getKey(), hit.entryId())));
        });
    }

    /** {@code POST caches {key, version, cacheSize}}: 201 {@code {cacheId}}; 409 when it exists or is being saved. */
    private void reserve(RoutingContext ctx) {
        JsonObject body = jsonBody(ctx, Set.of("key", "version", "cacheSize"));
        String key = Keys.cacheKey(string(body, "key"), "key");
        String version = version(string(body, "version"));
        Object size = body.getValue("cacheSize");
        long declared;
        if (size == null) {
            declared = -1;
        } else if (size instanceof Number n && n.longValue() >= 0 && n.doubleValue() == n.longValue()) {
            declared = n.longValue();
        } else {
            throw ArtifactException.badRequest("cacheSize must be a whole number of bytes");
        }
        String branch = scopeOf(branch(ctx));
        v1Handle(ctx, true, grant -> uploads.reserve(new Scope(grant.tenantId(), key, version, branch), declared),
                upload -> exchange.json(ctx, 201, new JsonObject().put("cacheId", upload.id())));
    }

    /** {@code PATCH caches/{id}} with {@code Content-Range: bytes s-e/*}: one chunk, written at its offset. */
    private void chunk(RoutingContext ctx) {
        long id = Long.parseLong(ctx.pathParam("param0"));
        String header = ctx.request().getHeader("Content-Range");
        Matcher range = header == null ? null : CONTENT_RANGE.matcher(header.strip());
        if (range == null || !range.matches()) {
            throw ArtifactException.badRequest("a chunk needs Content-Range: bytes <first>-<last>/* (got " + (header == null ? "none" : "'" + header + "'") + ")");
        }
        long first = Long.parseLong(range.group(1));
        long last = Long.parseLong(range.group(2));
        if (last < first) {
            throw ArtifactException.badRequest("Content-Range " + header + " ends before it starts");
        }
        long length = last - first + 1;
        v1Handle(ctx, true, grant -> {
            ActionsUploads.Upload upload = uploads.find(grant.tenantId(), id);
            return spool.receive(ctx, length, "this chunk's Content-Range")
                    .chain(chunk -> Cas.blocking(() -> {
                        if (chunk.size() != length) {
                            dev.reprise.artifact.store.LocalBlobs.deleteQuietly(chunk.file());
                            throw ArtifactException.badRequest("the chunk has " + chunk.size() + " bytes but Content-Range " + header + " says " + length);
                        }
                        uploads.writeAt(upload, first, chunk.file(), length);
                        return upload;
                    }));
        }, upload -> exchange.status(ctx, 204));
    }

    /** {@code POST caches/{id} {size}}: the upload becomes the entry, if its bytes are exactly 0..size-1. */
    private void commit(RoutingContext ctx) {
        long id = Long.parseLong(ctx.pathParam("param0"));
        JsonObject body = jsonBody(ctx, Set.of("size"));
        long size = body.getValue("size") instanceof Number n && n.longValue() >= 0 && n.doubleValue() == n.longValue() ? n.longValue() : -1;
        if (size < 0) {
            throw ArtifactException.badRequest("the body must be {\"size\": <bytes uploaded>}");
        }
        v1Handle(ctx, true, grant -> uploads.commit(uploads.find(grant.tenantId(), id), size), entry -> exchange.status(ctx, 204));
    }

    /** {@code GET archive/{entry}?tenant&exp&sig}: the archive, for whoever holds the signed URL (no token). */
    private void archive(RoutingContext ctx) {
        long id = Long.parseLong(ctx.pathParam("param0"));
        String tenant = signed.verify(ctx, Purpose.DOWNLOAD, id);
        exchange.run(Uni.createFrom().item(new Grant(tenant, "read", false)),
                grant -> cas.byId(tenant, ActionsUploads.PROTOCOL, id).chain(hit -> hit.isEmpty()
                        ? Uni.createFrom().item(Optional.<Map.Entry<Hit, Cas.BlobFile>>empty())
                        : cas.open(tenant, ActionsUploads.PROTOCOL, hit.get()).map(file -> file.map(f -> Map.entry(hit.get(), f)))),
                served -> {
                    if (served.isEmpty()) {
                        v1Fail(ctx, new ArtifactException(404, "not-found", "this cache entry no longer exists (expired or invalidated)"));
                    } else {
                        sender.sendFile(ctx, served.get().getValue(), served.get().getKey().size(), Map.of());
                    }
                }, failure -> v1Fail(ctx, failure));
    }

    // --- v2 (Twirp JSON) ------------------------------------------------------------------------

    private void twirp(RoutingContext ctx) {
        String method = ctx.pathParam("param0");
        try {
            switch (method) {
                case "CreateCacheEntry" -> createEntry(ctx);
                case "FinalizeCacheEntryUpload" -> finalizeEntry(ctx);
                case "GetCacheEntryDownloadURL" -> downloadUrl(ctx);
                default -> throw new ArtifactException(404, "bad_route", "no method " + method + " on CacheService"
                        + " (CreateCacheEntry, FinalizeCacheEntryUpload, GetCacheEntryDownloadURL)");
            }
        } catch (RuntimeException e) {
            twirpFail(ctx, e);
        }
    }

    /** Twirp's error shape, {@code {"code","msg"}}, always JSON (the toolkit retries a body it cannot parse). */
    private void twirpFail(RoutingContext ctx, Throwable failure) {
        ProblemException p = exchange.problemOf(ctx, failure);
        String code = switch (p.status()) {
            case 400, 413 -> "invalid_argument";
            case 401 -> "unauthenticated";
            case 403 -> "permission_denied";
            case 404 -> "bad_route".equals(p.type()) ? "bad_route" : "not_found";
            case 409 -> "already_exists";
            case 429 -> "resource_exhausted";
            case 503 -> "unavailable";
            case 507 -> "resource_exhausted";
            default -> "internal";
        };
        int status = p.status() == 507 ? 429 : p.status() == 413 ? 400 : p.status();
        exchange.error(ctx, status, p.headers(), "application/json", new JsonObject().put("code", code).put("msg", p.getMessage()).encode());
    }

    private <T> void twirpHandle(RoutingContext ctx, boolean write, Function<Grant, Uni<T>> work, Consumer<T> answer) {
        exchange.handle(ctx, write, work, answer, failure -> twirpFail(ctx, failure));
    }

    private void createEntry(RoutingContext ctx) {
        JsonObject body = jsonBody(ctx, CREATE_FIELDS);
        String key = Keys.cacheKey(string(body, "key"), "key");
        String version = version(string(body, "version"));
        String branch = config.defaultBranch();
        twirpHandle(ctx, true, grant -> uploads.reserve(new Scope(grant.tenantId(), key, version, branch), -1),
                upload -> exchange.json(ctx, 200, new JsonObject().put("ok", true).put("signed_upload_url",
                        base(ctx) + UPLOADS + upload.id() + "?" + signed.query(Purpose.UPLOAD, upload.scope().tenantId(), upload.id()))));
    }

    private void finalizeEntry(RoutingContext ctx) {
        JsonObject body = jsonBody(ctx, FINALIZE_FIELDS);
        String key = Keys.cacheKey(string(body, "key"), "key");
        String version = version(string(body, "version"));
        Object sizeValue = body.containsKey("size_bytes") ? body.getValue("size_bytes") : body.getValue("sizeBytes", "0");
        String sizeText = sizeValue instanceof Number n ? String.valueOf(n.longValue()) : String.valueOf(sizeValue);
        if (!INT64.matcher(sizeText).matches()) {
            throw ArtifactException.badRequest("size_bytes must be a whole number of bytes (an int64, as a string or a number)");
        }
        long size = Long.parseLong(sizeText);
        String branch = config.defaultBranch();
        twirpHandle(ctx, true, grant -> uploads.commit(uploads.find(new Scope(grant.tenantId(), key, version, branch)), size),
                entry -> exchange.json(ctx, 200, new JsonObject().put("ok", true).put("entry_id", String.valueOf(entry))));
    }

    private void downloadUrl(RoutingContext ctx) {
        JsonObject body = jsonBody(ctx, DOWNLOAD_FIELDS);
        String key = Keys.cacheKey(string(body, "key"), "key");
        String version = version(string(body, "version"));
        Object restore = body.containsKey("restore_keys") ? body.getValue("restore_keys") : body.getValue("restoreKeys");
        List<String> restoreKeys = new ArrayList<>();
        if (restore != null) {
            if (!(restore instanceof JsonArray array)) {
                throw ArtifactException.badRequest("restore_keys must be an array of strings");
            }
            for (Object value : array) {
                if (!(value instanceof String text)) {
                    throw ArtifactException.badRequest("restore_keys must be an array of strings");
                }
                restoreKeys.add(Keys.cacheKey(text, "each restore key"));
            }
        }
        if (restoreKeys.size() + 1 > MAX_KEYS) {
            throw ArtifactException.badRequest("at most " + MAX_KEYS + " keys (the key and its restore keys)");
        }
        List<RestoreOrder.Attempt> attempts = RestoreOrder.attempts(key, restoreKeys, null, config.defaultBranch());
        twirpHandle(ctx, false, grant -> restore(grant, version, attempts), found -> exchange.json(ctx, 200, found.isEmpty()
                ? new JsonObject().put("ok", false)
                : new JsonObject().put("ok", true).put("matched_key", found.get().getValue().key())
                        .put("signed_download_url", downloadUrl(ctx, found.get().getKey(), found.get().getValue().entryId()))));
    }

    // --- v2 blob uploads (the Azure SDK's requests) -------------------------------------------

    /**
     * {@code PUT uploads/{id}?<signature>}: the whole archive (no {@code comp}), one block
     * ({@code comp=block&blockid=}), or the block list ({@code comp=blocklist}, XML) that orders them.
     */
    private void blob(RoutingContext ctx) {
        long id;
        String tenant;
        try {
            id = Long.parseLong(ctx.pathParam("param0"));
            tenant = signed.verify(ctx, Purpose.UPLOAD, id);
        } catch (RuntimeException e) {
            ctx.request().pause();
            blobFail(ctx, e);
            return;
        }
        String comp = ctx.request().getParam("comp");
        Uni<Grant> grant = Uni.createFrom().item(new Grant(tenant, "read-write", false));
        Consumer<Object> created = ignored -> ctx.response().setStatusCode(201).putHeader("ETag", "\"" + UUID.randomUUID() + "\"")
                .putHeader("Last-Modified", DateTimeFormatter.RFC_1123_DATE_TIME.format(java.time.ZonedDateTime.now(ZoneOffset.UTC)))
                .putHeader("x-ms-request-id", UUID.randomUUID().toString()).putHeader("x-ms-version", "2026-02-06")
                .putHeader("x-ms-request-server-encrypted", "false").putHeader(HttpHeaders.CONTENT_LENGTH, "0").end();
        ctx.request().pause();
        if (comp == null) {
            receiveInto(ctx, grant, tenant, id, config.maxBlobBytes(), "the actions cache",
                    (upload, body) -> uploads.putWhole(upload, body.file(), body.size()), created);
        } else if (comp.equals("block")) {
            String blockId = ctx.request().getParam("blockid");
            if (blockId == null || !BLOCK_ID.matcher(blockId).matches()) {
                blobFail(ctx, ArtifactException.badRequest("blockid must be 1 to 128 base64 characters"));
                return;
            }
            receiveInto(ctx, grant, tenant, id, config.maxBlobBytes(), "the actions cache",
                    (upload, body) -> uploads.putBlock(upload, blockId, body.file()), created);
        } else if (comp.equals("blocklist")) {
            receiveInto(ctx, grant, tenant, id, BLOCK_LIST_LIMIT, "a block list", (upload, body) -> {
                String xml;
                try {
                    xml = java.nio.file.Files.readString(body.file(), StandardCharsets.UTF_8);
                } finally {
                    dev.reprise.artifact.store.LocalBlobs.deleteQuietly(body.file());
                }
                List<String> ids = new ArrayList<>();
                Matcher entry = BLOCK_LIST_ID.matcher(xml);
                while (entry.find()) {
                    ids.add(entry.group(2).strip());
                }
                if (ids.isEmpty() && !xml.contains("<BlockList")) {
                    throw ArtifactException.badRequest("the body must be a <BlockList> of <Latest> block ids");
                }
                uploads.commitBlocks(upload, ids);
            }, created);
        } else {
            blobFail(ctx, ArtifactException.badRequest("comp must be absent, 'block' or 'blocklist' (got '" + comp + "')"));
        }
    }

    /** What a blob request does with its spooled body, on a worker thread. */
    private interface BodyUse {
        void accept(ActionsUploads.Upload upload, Cas.Upload body) throws Exception;
    }

    /** Spools a blob request's body (at most {@code limit} bytes) and hands it to {@code use} for the tenant's upload {@code id}. */
    private void receiveInto(RoutingContext ctx, Uni<Grant> grant, String tenant, long id, long limit, String limitHint, BodyUse use,
            Consumer<Object> created) {
        exchange.run(grant, g -> {
            ActionsUploads.Upload upload = uploads.find(tenant, id);
            return spool.receive(ctx, limit, limitHint).chain(body -> Cas.blocking(() -> {
                use.accept(upload, body);
                return upload;
            }));
        }, created, failure -> blobFail(ctx, failure));
    }

    /** The blob service's error shape, which the Azure SDK reads. */
    private void blobFail(RoutingContext ctx, Throwable failure) {
        ProblemException p = exchange.problemOf(ctx, failure);
        String code = switch (p.status()) {
            case 400 -> "InvalidInput";
            case 403 -> "AuthenticationFailed";
            case 404 -> "BlobNotFound";
            case 409 -> "BlobAlreadyExists";
            case 413 -> "RequestBodyTooLarge";
            default -> p.status() >= 500 ? "InternalError" : "InvalidInput";
        };
        String xml = "<?xml version=\"1.0\" encoding=\"utf-8\"?><Error><Code>" + code + "</Code><Message>"
                + p.getMessage().replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;") + "</Message></Error>";
        exchange.error(ctx, p.status(), Map.of("x-ms-error-code", code), "application/xml", xml);
    }

    // --- shared ---------------------------------------------------------------------------------

    /** The entry a restore finds (a miss counted), with the tenant its download URL is signed for. */
    private Uni<Optional<Map.Entry<String, Hit>>> restore(Grant grant, String version, List<RestoreOrder.Attempt> attempts) {
        return cas.restore(grant.tenantId(), ActionsUploads.PROTOCOL, version, attempts).invoke(hit -> {
            if (hit.isEmpty()) {
                cas.missed(grant.tenantId(), ActionsUploads.PROTOCOL);
            }
        }).map(hit -> hit.map(h -> Map.entry(grant.tenantId(), h)));
    }

    /** The absolute URL of an entry's archive, signed for its tenant. */
    private String downloadUrl(RoutingContext ctx, String tenantId, long entryId) {
        return base(ctx) + V1 + "archive/" + entryId + "?" + signed.query(Purpose.DOWNLOAD, tenantId, entryId);
    }

    /** Where clients reach this service: the configured public URL, else the request's scheme and Host. */
    private String base(RoutingContext ctx) {
        Optional<String> configured = config.publicUrl().map(String::strip).filter(s -> !s.isEmpty());
        if (configured.isPresent()) {
            return configured.get().replaceAll("/+$", "");
        }
        HostAndPort authority = ctx.request().authority();
        String host = authority == null ? "127.0.0.1" : authority.host();
        int port = authority == null ? ctx.request().localAddress().port() : authority.port();
        return ctx.request().scheme() + "://" + host + (port > 0 ? ":" + port : "");
    }

    /** The branch scope of a v1 URL ({@code /branch/{name}/_apis/...}), or null. */
    private static String branch(RoutingContext ctx) {
        String path = ctx.request().path();
        if (!path.startsWith("/branch/")) {
            return null;
        }
        String raw = path.substring("/branch/".length(), path.indexOf('/', "/branch/".length()));
        return Keys.branch(URLDecoder.decode(raw, StandardCharsets.UTF_8));
    }

    private String scopeOf(String branch) {
        return branch == null ? config.defaultBranch() : branch;
    }

    private static List<String> keyList(String joined) {
        if (joined == null || joined.isEmpty()) {
            throw ArtifactException.badRequest("keys is required: the key, then restore keys, separated by ','");
        }
        List<String> keys = new ArrayList<>();
        for (String part : joined.split(",", -1)) {
            keys.add(Keys.cacheKey(part, "each key"));
        }
        if (keys.size() > MAX_KEYS) {
            throw ArtifactException.badRequest("at most " + MAX_KEYS + " keys (the key and its restore keys)");
        }
        return keys;
    }

    private static String version(String value) {
        if (value == null || value.isEmpty()) {
            throw ArtifactException.badRequest("version is required (the toolkit's hash of the paths and compression)");
        }
        return Keys.token(value, "version");
    }

    private static String string(JsonObject body, String field) {
        Object value = body.getValue(field);
        if (value != null && !(value instanceof String)) {
            throw ArtifactException.badRequest(field + " must be a string");
        }
        return (String) value;
    }

    /** The request's JSON object; unknown fields are refused, naming the ones it takes. */
    private static JsonObject jsonBody(RoutingContext ctx, Set<String> fields) {
        JsonObject body = ProtocolRoutes.jsonBody(ctx);
        for (String name : body.fieldNames()) {
            if (!fields.contains(name)) {
                throw ArtifactException.badRequest("unknown field '" + name + "' (fields: " + String.join(", ", fields.stream().sorted().toList()) + ")");
            }
        }
        return body;
    }
}
