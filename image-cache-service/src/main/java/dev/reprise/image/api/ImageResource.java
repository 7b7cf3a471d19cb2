package dev.reprise.image.api;

import com.fasterxml.jackson.annotation.JsonInclude;
import dev.reprise.auth.OperatorOnly;
import dev.reprise.auth.TokenVerifier;
import dev.reprise.image.api.ImageRequests.InvalidateRequest;
import dev.reprise.image.api.ImageRequests.PruneRequest;
import dev.reprise.image.api.ImageRequests.SetRequest;
import dev.reprise.image.deps.InvalidDependencyException;
import dev.reprise.image.service.ImageCache;
import dev.reprise.image.service.ImageCache.Resolution;
import dev.reprise.image.store.ImageStore;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.DefaultValue;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.Context;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.MultivaluedMap;
import jakarta.ws.rs.core.Response;
import jakarta.ws.rs.core.UriInfo;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/** Images pre-built per dependency set: list, get, build (waiting or in the background), resolve, delete, invalidate, prune, stats. */
@Path("/api/v1/images")
@Produces(MediaType.APPLICATION_JSON)
public class ImageResource {

    private static final Pattern ID = Pattern.compile("[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}");
    private static final int MAX_PAGE_SIZE = 200;

    private static final Set<String> PRUNE_PARAMETERS = Set.of("dryRun");

    private final ImageCache images;
    private final ImageStore store;
    private final TokenVerifier verifier;

    /** A page of images, newest first. */
    public record ImagePage(List<ImageView> items, int page, int size, long total) {
    }

    /** The store's images by state, their bytes and hits. */
    public record Stats(long images, long completed, long building, long failed, long bytes, long hits, double averageHits) {
    }

    /** A resolve's or build's answer: {@code result} hit, building, built or failed, and the image when there is one. */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Resolved(String result, String baseImage, ImageView image) {
    }

    /** How many images an invalidation removed. */
    public record Invalidated(long removed) {
    }

    /** What a prune removed, or with {@code dryRun} what it would remove ({@code wouldRemove}, {@code images}). */
    @JsonInclude(JsonInclude.Include.NON_NULL)
    public record Pruned(boolean dryRun, long removed, Integer wouldRemove, List<ImageView> images, int unusedDays, int maxCount) {
    }

    public ImageResource(ImageCache images, ImageStore store, TokenVerifier verifier) {
        this.images = images;
        this.store = store;
        this.verifier = verifier;
    }

    /** A page of images, newest first, optionally only those built on {@code baseImage}. */
    @GET
    public Uni<ImagePage> list(@QueryParam("page") @DefaultValue("0") int page, @QueryParam("size") @DefaultValue("50") int size,
            @QueryParam("baseImage") String baseImage) {
        if (page < 0 || size < 1 || size > MAX_PAGE_SIZE) {
            throw new InvalidDependencyException("page must be ≥ 0 and size between 1 and " + MAX_PAGE_SIZE);
        }
        String base = baseImage == null || baseImage.isBlank() ? null : normalisedBase(baseImage);
        return store.list(page, size, base)
                .map(p -> new ImagePage(p.items().stream().map(row -> ImageView.of(row, false)).toList(), page, size, p.total()));
    }

    @GET
    @Path("/stats")
    public Uni<Stats> stats() {
        return images.stats().map(s -> new Stats(s.images(), s.completed(), s.building(), s.failed(), s.bytes(), s.hits(),
                s.images() == 0 ? 0.0 : (double) s.hits() / s.images()));
    }

    /** One image with its dependencies, installed versions and build log (growing while it builds). */
    @GET
    @Path("/{id}")
    public Uni<ImageView> get(@PathParam("id") String id) {
        checkId(id);
        return store.find(id).map(found -> ImageView.of(found.orElseThrow(() -> notFound(id)), true));
    }

    /**
     * Builds the set's image. {@code wait=true} (default) answers when it is built (201, or 200
     * when it already was) or failed (422 with the log); {@code wait=false} answers 202 at once,
     * progress then comes as events and through get.
     */
    @POST
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<Response> build(String body, @QueryParam("wait") @DefaultValue("true") boolean wait) {
        SetRequest request = ImageRequests.read(body, SetRequest.class);
        return images.dependencySet(request.baseImage(), request.dependencies()).flatMap(set -> wait
                ? images.build(set).map(r -> answer(r, switch (r.result()) {
                    case "built" -> 201;
                    case "failed" -> 422;
                    case "disabled" -> 409;
                    default -> 200;
                }, true))
                : images.resolve(set, true, true).map(r -> answer(r, r.result().equals("hit") ? 200 : r.result().equals("disabled") ? 409 : 202,
                        false)));
    }

    /**
     * The cached image for the set (200, result hit), or a build started or running (202, result
     * building). Any token reads what exists; one that may only read never has a build started or
     * resubmitted: where that would be needed it gets 403 (the filter already checked the token,
     * so asking again is answered from the verifier's memory).
     */
    @POST
    @Path("/resolve")
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<Response> resolve(String body, @HeaderParam(HttpHeaders.AUTHORIZATION) String authorization) {
        SetRequest request = ImageRequests.read(body, SetRequest.class);
        boolean retry = Boolean.TRUE.equals(request.retryFailed());
        return verifier.verify(authorization).flatMap(grant -> images.dependencySet(request.baseImage(), request.dependencies())
                .flatMap(set -> images.resolve(set, retry, grant.canWrite()))
                .map(r -> answer(r, r.result().equals("building") ? 202 : 200, false)));
    }

    @DELETE
    @Path("/{id}")
    public Uni<Response> delete(@PathParam("id") String id) {
        checkId(id);
        return images.delete(id).map(deleted -> {
            if (!deleted) {
                throw notFound(id);
            }
            return Response.noContent().build();
        });
    }

    /** Removes every image built on a base image (e.g. after the base was rebuilt): every tenant's, so an operator's. */
    @POST
    @Path("/invalidate")
    @OperatorOnly
    @Consumes(MediaType.APPLICATION_JSON)
    public Uni<Invalidated> invalidate(String body) {
        InvalidateRequest request = ImageRequests.read(body, InvalidateRequest.class);
        if (request.baseImage() == null || request.baseImage().isBlank()) {
            throw new InvalidDependencyException("baseImage is required: the image whose derived images to remove");
        }
        return images.invalidateBase(request.baseImage()).map(Invalidated::new);
    }

    /**
     * Removes images unused for {@code unusedDays} and the least used above {@code maxCount}
     * (defaults: configured); every tenant's, so an operator's. {@code dryRun=true} lists what
     * would go and removes nothing.
     */
    @POST
    @Path("/prune")
    @Consumes(MediaType.APPLICATION_JSON)
    @OperatorOnly
    public Uni<Pruned> prune(String body, @Context UriInfo uri) {
        boolean dryRun = dryRun(uri.getQueryParameters());
        PruneRequest request = body == null || body.isBlank() ? new PruneRequest(null, null) : ImageRequests.read(body, PruneRequest.class);
        int days = request.unusedDays() == null ? images.defaultPruneDays() : request.unusedDays();
        int max = request.maxCount() == null ? images.defaultMaxImages() : request.maxCount();
        if (days < 0 || max < 0) {
            throw new InvalidDependencyException("unusedDays and maxCount must be ≥ 0");
        }
        if (dryRun) {
            return images.pruneCandidates(days, max).map(rows -> new Pruned(true, 0, rows.size(),
                    rows.stream().map(row -> ImageView.of(row, false)).toList(), days, max));
        }
        return images.prune(days, max).map(n -> new Pruned(false, n, null, null, days, max));
    }

    /**
     * {@code dryRun} exactly once, {@code true} or {@code false}; any other query parameter is a
     * 400 naming it. A misspelt or doubled dryRun must never be read as "remove them".
     */
    static boolean dryRun(MultivaluedMap<String, String> query) {
        Set<String> unknown = new TreeSet<>(query.keySet());
        unknown.removeAll(PRUNE_PARAMETERS);
        if (!unknown.isEmpty()) {
            throw new InvalidDependencyException("unknown query parameter" + (unknown.size() == 1 ? " " : "s ") + String.join(", ", unknown)
                    + " on prune; the only one is dryRun=true|false (unusedDays and maxCount go in the JSON body)");
        }
        List<String> values = query.get("dryRun");
        if (values == null) {
            return false;
        }
        if (values.size() != 1 || !(values.get(0).equals("true") || values.get(0).equals("false"))) {
            throw new InvalidDependencyException("dryRun must be given once, as true or false");
        }
        return values.get(0).equals("true");
    }

    private static Response answer(Resolution resolution, int status, boolean withLog) {
        ImageView image = resolution.image() == null ? null
                : ImageView.of(resolution.image(), withLog || resolution.result().equals("failed"));
        return Response.status(status).entity(new Resolved(resolution.result(), resolution.baseImage(), image))
                .type(MediaType.APPLICATION_JSON).build();
    }

    private static String normalisedBase(String baseImage) {
        try {
            return dev.reprise.image.registry.ImageReference.parse(baseImage).toString();
        } catch (IllegalArgumentException e) {
            throw new InvalidDependencyException(e.getMessage());
        }
    }

    private static void checkId(String id) {
        if (!ID.matcher(id).matches()) {
            throw new InvalidDependencyException("'" + id + "' is not an image id (a UUID)");
        }
    }

    private static ImageCache.NotFoundException notFound(String id) {
        return new ImageCache.NotFoundException("no image " + id);
    }

}
