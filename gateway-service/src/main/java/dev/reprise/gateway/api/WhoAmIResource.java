package dev.reprise.gateway.api;

import dev.reprise.gateway.service.TokenAuthenticator;
import io.smallrye.mutiny.Uni;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.HeaderParam;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.core.HttpHeaders;
import jakarta.ws.rs.core.MediaType;

/** Tells a caller which tenant its token belongs to: the quickest check that a token works. */
@Path("/api/v1/whoami")
@Produces(MediaType.APPLICATION_JSON)
public class WhoAmIResource {

    /** The caller's identity as the token grants it. */
    public record WhoAmI(String tenantId, String tenantName, String tokenName, String scope) {
    }

    private final TokenAuthenticator authenticator;

    public WhoAmIResource(TokenAuthenticator authenticator) {
        this.authenticator = authenticator;
    }

    @GET
    public Uni<WhoAmI> whoami(@HeaderParam(HttpHeaders.AUTHORIZATION) String authorization) {
        return authenticator.authenticate(authorization)
                .map(g -> new WhoAmI(g.tenantId(), g.tenantName(), g.tokenName(), g.scope()));
    }
}
