package dev.reprise.replay.api;

import dev.reprise.replay.contract.Invalidated;
import dev.reprise.replay.policy.CacheRemovals;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;

/**
 * {@code DELETE /api/v1/admin/recordings}: the whole build cache out, every tenant's recordings
 * (operator token, or the gateway's service token; auth-support's OperatorGuard). For a runner image
 * or tool upgrade that keys do not capture.
 */
@Path("/api/v1/admin/recordings")
public class AdminRecordingsResource {

    private final CacheRemovals removals;

    public AdminRecordingsResource(CacheRemovals removals) {
        this.removals = removals;
    }

    @DELETE
    @Produces(MediaType.APPLICATION_JSON)
    public Uni<Invalidated> purgeAll(@QueryParam("reason") String reason) {
        String why = reason == null || reason.isBlank() ? "purged by an operator" : reason.length() > 200 ? reason.substring(0, 200) : reason;
        return removals.purgeAll(why).map(n -> new Invalidated("all", "*", n));
    }
}
