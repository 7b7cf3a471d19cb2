package dev.reprise.auth;

import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;
import org.eclipse.microprofile.rest.client.inject.RegisterRestClient;

/** The gateway owns tenants and tokens; this service asks it who a token belongs to (wrapped by {@link TokenVerifier}). */
@RegisterRestClient(configKey = "gateway")
@Path("/api/v1")
@Produces(MediaType.APPLICATION_JSON)
public interface GatewayApi {

    @GET
    @Path("/whoami")
    Uni<WhoAmI> whoami(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization);
}
