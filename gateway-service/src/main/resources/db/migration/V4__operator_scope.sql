-- operator: who runs the installation (store-wide prune, collect, integrity, image prune and
-- invalidate, cache reports); a tenant's admin is not one.
ALTER TABLE api_tokens DROP CONSTRAINT IF EXISTS api_tokens_scope_check;
ALTER TABLE api_tokens ADD CONSTRAINT api_tokens_scope_check CHECK (scope IN ('read', 'read-write', 'admin', 'operator'));
