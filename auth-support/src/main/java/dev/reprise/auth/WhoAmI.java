package dev.reprise.auth;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/** The gateway's answer to {@code GET /api/v1/whoami}. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record WhoAmI(String tenantId, String tenantName, String tokenName, String scope) {
}
