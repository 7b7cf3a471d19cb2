package dev.reprise.auth;

/** What a request's credentials allow: one tenant, read or write. */
public record Grant(String tenantId, String scope, boolean anonymous) {

    public boolean canWrite() {
        return "read-write".equals(scope) || "admin".equals(scope);
    }

    public boolean isAdmin() {
        return "admin".equals(scope);
    }
}
