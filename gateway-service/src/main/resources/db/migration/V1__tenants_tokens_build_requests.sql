-- gateway-service owns this schema; no other service reads it.
CREATE TABLE tenants (
    id          TEXT PRIMARY KEY,
    name        TEXT        NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

-- Tokens are stored as the sha256 of the secret, never the secret itself.
CREATE TABLE api_tokens (
    token_hash   CHAR(64) PRIMARY KEY,
    tenant_id    TEXT        NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
    name         TEXT        NOT NULL,
    scope        TEXT        NOT NULL CHECK (scope IN ('read', 'read-write', 'admin')),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at TIMESTAMPTZ,
    revoked_at   TIMESTAMPTZ
);
CREATE INDEX api_tokens_tenant ON api_tokens (tenant_id);

CREATE TABLE build_requests (
    id            TEXT PRIMARY KEY,
    tenant_id     TEXT        NOT NULL REFERENCES tenants (id),
    cache_key     CHAR(64)    NOT NULL,
    repository    TEXT        NOT NULL,
    ref           TEXT        NOT NULL,
    commit_sha    TEXT        NOT NULL,
    tool          TEXT        NOT NULL,
    status        TEXT        NOT NULL,
    cached        BOOLEAN     NOT NULL DEFAULT false,
    requested_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    started_at    TIMESTAMPTZ,
    finished_at   TIMESTAMPTZ,
    exit_code     INTEGER
);
CREATE INDEX build_requests_tenant_repo ON build_requests (tenant_id, repository, requested_at DESC);
CREATE INDEX build_requests_cache_key ON build_requests (cache_key);
