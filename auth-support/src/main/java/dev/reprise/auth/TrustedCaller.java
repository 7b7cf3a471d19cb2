package dev.reprise.auth;

import jakarta.ws.rs.container.ContainerRequestContext;

/**
 * A caller a service trusts with its operator endpoints without an API token (replay-service: the
 * gateway, by its service token). A service that has none declares no bean of this type.
 */
public interface TrustedCaller {

    boolean trusted(ContainerRequestContext request);
}
