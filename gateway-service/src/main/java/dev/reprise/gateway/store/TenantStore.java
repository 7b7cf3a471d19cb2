package dev.reprise.gateway.store;

import io.smallrye.mutiny.Uni;
import io.vertx.mutiny.sqlclient.Pool;
import io.vertx.mutiny.sqlclient.Row;
import io.vertx.mutiny.sqlclient.Tuple;
import jakarta.enterprise.context.ApplicationScoped;
import java.util.Optional;

/** Tenants and their API tokens in the gateway's schema. */
@ApplicationScoped
public class TenantStore {

    /** What a valid token grants. */
    public record TokenGrant(String tenantId, String tenantName, String tokenName, String scope) {
    }

    private final Pool pool;

    public TenantStore(Pool pool) {
        this.pool = pool;
    }

    public Uni<Void> ensureTenant(String id, String name) {
        return pool.preparedQuery("INSERT INTO tenants (id, name) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING")
                .execute(Tuple.of(id, name)).replaceWithVoid();
    }

    /** Stores a token hash for a tenant; a hash already stored keeps its row (idempotent). */
    public Uni<Void> ensureToken(String tenantId, String tokenHash, String name, String scope) {
        return pool.preparedQuery("""
                        INSERT INTO api_tokens (token_hash, tenant_id, name, scope) VALUES ($1, $2, $3, $4)
                        ON CONFLICT (token_hash) DO NOTHING""")
                .execute(Tuple.of(tokenHash, tenantId, name, scope)).replaceWithVoid();
    }

    /** The grant of an unrevoked token, marking it used. */
    public Uni<Optional<TokenGrant>> findActiveToken(String tokenHash) {
        return pool.preparedQuery("""
                        UPDATE api_tokens t SET last_used_at = now()
                        FROM tenants n
                        WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND n.id = t.tenant_id
                        RETURNING t.tenant_id, n.name, t.name AS token_name, t.scope""")
                .execute(Tuple.of(tokenHash))
                .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(toGrant(rows.iterator().next())));
    }

    private static TokenGrant toGrant(Row row) {
        return new TokenGrant(row.getString("tenant_id"), row.getString("name"), row.getString("token_name"),
                row.getString("scope"));
    }
}
