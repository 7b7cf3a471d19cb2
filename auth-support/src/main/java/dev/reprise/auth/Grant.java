package dev.reprise.auth;

/**
 * What a request's credentials allow. Scopes: {@code read} and {@code read-write} on one tenant's
 * data; {@code admin}, a tenant's administrator (its own data only: today the same rights as
 * read-write); {@code operator}, who runs the installation: store-wide actions (prune, collect,
 * integrity, image prune and invalidate, cache reports) that touch every tenant, besides
 * read-write on its own tenant.
 */
public record Grant(String tenantId, String scope, boolean anonymous) {

    public static final String OPERATOR = "operator";

    public boolean canWrite() {
        return "read-write".equals(scope) || "admin".equals(scope) || isOperator();
    }

    /** Store-wide actions: never a tenant's token, whatever its scope. */
    public boolean isOperator() {
        return !anonymous && OPERATOR.equals(scope);
    }
}
