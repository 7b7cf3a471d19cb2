package dev.reprise.gateway.client;

import dev.reprise.replay.contract.RecordingView;
import dev.reprise.events.StreamTickets;
import org.eclipse.microprofile.config.ConfigProvider;
import org.eclipse.microprofile.rest.client.annotation.ClientHeaderParam;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.rest.client.inject.RegisterRestClient;

/** replay-service's cache index, as the gateway calls it (wrapped by {@link ReplayClient}). */
@RegisterRestClient(configKey = "replay")
@Path("/api/v1")
@Produces(MediaType.APPLICATION_JSON) // what the gateway accepts: replay-service answers JSON (or problem JSON)
@ClientHeaderParam(name = StreamTickets.SERVICE_HEADER, value = "{serviceToken}")
interface ReplayApi {

    /** The service token replay-service expects on its internal API, from the shared stream secret. */
    default String serviceToken() {
        return Holder.TICKETS.serviceToken();
    }

    /** Built on first use, from the same setting as {@link dev.reprise.gateway.config.BuildsConfig#streamSecret()}. */
    final class Holder {
        static final StreamTickets TICKETS = new StreamTickets(
                ConfigProvider.getConfig().getValue("reprise.builds.stream-secret", String.class));

        private Holder() {
        }
    }

    @GET
    @Path("/recordings/{cacheKey}")
    Uni<RecordingView> lookup(@PathParam("cacheKey") String cacheKey, @QueryParam("tenant") String tenant);

    @DELETE
    @Path("/recordings/{cacheKey}")
    Uni<String> invalidateKey(@PathParam("cacheKey") String cacheKey, @QueryParam("tenant") String tenant,
            @QueryParam("reason") String reason);

    @DELETE
    @Path("/recordings")
    Uni<String> invalidateRepository(@QueryParam("repository") String repository, @QueryParam("tenant") String tenant,
            @QueryParam("reason") String reason);

    @DELETE
    @Path("/admin/recordings")
    Uni<String> purgeAll(@QueryParam("reason") String reason);

    @GET
    @Path("/stats")
    Uni<String> stats(@QueryParam("tenant") String tenant, @QueryParam("hours") Integer hours);
}
