package dev.reprise.gateway.client;

import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.QueryParam;
import org.eclipse.microprofile.rest.client.inject.RegisterRestClient;

/** replay-service's cache index, as the gateway calls it (wrapped by {@link ReplayClient}). */
@RegisterRestClient(configKey = "replay")
@Path("/api/v1/recordings")
interface ReplayApi {

    @GET
    @Path("/{cacheKey}")
    Uni<RecordingInfo> lookup(@PathParam("cacheKey") String cacheKey, @QueryParam("tenant") String tenant);
}
