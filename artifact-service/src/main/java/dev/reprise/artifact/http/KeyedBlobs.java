package dev.reprise.artifact.http;

import dev.reprise.artifact.service.Cas.Upload;
import dev.reprise.artifact.service.Cas;
import dev.reprise.artifact.store.ArtifactIndex.EntryWrite;
import dev.reprise.artifact.store.ArtifactIndex.Hit;
import dev.reprise.artifact.store.ArtifactIndex.Provenance;
import dev.reprise.auth.Grant;
import io.smallrye.mutiny.Uni;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Map;
import java.util.Optional;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * GET, HEAD and PUT of one key's blob, as every key-to-blob protocol (Bazel, Gradle, ccache,
 * Turborepo, actions/cache archives) does it. A protocol says how its key looks, what it accepts
 * and which headers it hands back.
 */
@ApplicationScoped
public class KeyedBlobs {

    /** What a PUT stores: the protocol's checks on the upload and the entry's extra fields. */
    public record Put(long limit, String limitHint, Function<Upload, String> refuse, JsonObject metadata, boolean immutable,
            String version, String branch) {

        public static Put of(long limit, String limitHint) {
            return new Put(limit, limitHint, upload -> null, new JsonObject(), false, "", null);
        }

        public Put refusing(Function<Upload, String> check) {
            return new Put(limit, limitHint, check, metadata, immutable, version, branch);
        }

        public Put withMetadata(JsonObject extra) {
            return new Put(limit, limitHint, refuse, extra, immutable, version, branch);
        }

        public Put immutable(String version, String branch) {
            return new Put(limit, limitHint, refuse, metadata, true, version, branch);
        }
    }

    private final Exchange exchange;
    private final UploadSpool spool;
    private final BlobSender sender;
    private final Cas cas;

    public KeyedBlobs(Exchange exchange, UploadSpool spool, BlobSender sender, Cas cas) {
        this.spool = spool;
        this.sender = sender;
        this.exchange = exchange;
        this.cas = cas;
    }

    /** Answers GET (the bytes) or HEAD (existence and size) for a key; a miss is 404. */
    public void get(RoutingContext ctx, String protocol, String key, String version, Function<Hit, Map<String, String>> headers) {
        get(ctx, protocol, key, version, headers, exchange::fail);
    }

    /** As {@link #get(RoutingContext, String, String, String, Function)}, failures answered by {@code failed}. */
    public void get(RoutingContext ctx, String protocol, String key, String version, Function<Hit, Map<String, String>> headers,
            BiConsumer<RoutingContext, Throwable> failed) {
        boolean head = ctx.request().method() == HttpMethod.HEAD;
        exchange.handle(ctx, false, grant -> cas.lookup(grant.tenantId(), protocol, key, version)
                .chain(hit -> {
                    if (hit.isEmpty()) {
                        cas.missed(grant.tenantId(), protocol);
                        return Uni.createFrom().item(Optional.<Served>empty());
                    }
                    if (head) {
                        cas.hitWithoutBody(grant.tenantId(), protocol, hit.get());
                        return Uni.createFrom().item(Optional.of(new Served(hit.get(), null)));
                    }
                    return cas.open(grant.tenantId(), protocol, hit.get()).map(path -> path.map(p -> new Served(hit.get(), p)));
                }), served -> {
                    if (served.isEmpty()) {
                        failed.accept(ctx, new ArtifactException(404, "not-found", "no entry for this key"));
                    } else {
                        sender.sendFile(ctx, served.get().file(), served.get().hit().size(), headers.apply(served.get().hit()));
                    }
                }, failure -> failed.accept(ctx, failure));
    }

    private record Served(Hit hit, Cas.BlobFile file) {
    }

    /** Answers a PUT: streams, hashes, checks and stores the body under the key; {@code answer} writes the success. */
    public void put(RoutingContext ctx, String protocol, String key, Put put, BiConsumer<RoutingContext, Long> answer) {
        put(ctx, protocol, key, put, answer, exchange::fail);
    }

    /** As {@link #put(RoutingContext, String, String, Put, BiConsumer)}, failures answered by {@code failed}. */
    public void put(RoutingContext ctx, String protocol, String key, Put put, BiConsumer<RoutingContext, Long> answer,
            BiConsumer<RoutingContext, Throwable> failed) {
        Provenance provenance;
        String repository;
        try {
            provenance = ProvenanceHeaders.read(ctx.request());
            repository = provenance.repository();
        } catch (ArtifactException e) {
            ctx.request().pause();
            failed.accept(ctx, e);
            return;
        }
        exchange.handle(ctx, true, (Grant grant) -> spool.receive(ctx, put.limit(), put.limitHint())
                .chain(upload -> {
                    String refusal = put.refuse().apply(upload);
                    if (refusal != null) {
                        return Cas.blocking(() -> dev.reprise.artifact.store.LocalBlobs.deleteQuietly(upload.file()))
                                .chain(() -> Uni.createFrom().failure(ArtifactException.badRequest(refusal)));
                    }
                    String branch = put.branch() != null ? put.branch() : provenance.branch();
                    EntryWrite write = new EntryWrite(grant.tenantId(), protocol, key, put.version(), upload.digest(), upload.size(),
                            repository, branch, cas.expiryFromNow(), put.metadata(), provenance);
                    return cas.save(write, upload, put.immutable());
                }), id -> answer.accept(ctx, id), failure -> failed.accept(ctx, failure));
    }
}
