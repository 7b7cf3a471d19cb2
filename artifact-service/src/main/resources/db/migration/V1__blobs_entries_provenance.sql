-- artifact-service owns this schema: blobs in its S3 bucket and the cache entries pointing at them.
CREATE TABLE blobs (
    digest          CHAR(64) PRIMARY KEY,
    size_bytes      BIGINT      NOT NULL CHECK (size_bytes >= 0),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_access_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    deleted_at      TIMESTAMPTZ
);

CREATE TABLE cache_entries (
    id              BIGSERIAL PRIMARY KEY,
    tenant_id       TEXT        NOT NULL,
    protocol        TEXT        NOT NULL,
    cache_key       TEXT        NOT NULL,
    digest          CHAR(64)    NOT NULL REFERENCES blobs (digest),
    repository      TEXT,
    branch          TEXT,
    size_bytes      BIGINT      NOT NULL,
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_access_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at      TIMESTAMPTZ,
    deleted_at      TIMESTAMPTZ
);
CREATE UNIQUE INDEX cache_entries_key ON cache_entries (tenant_id, protocol, cache_key) WHERE deleted_at IS NULL;
CREATE INDEX cache_entries_lru ON cache_entries (last_access_at) WHERE deleted_at IS NULL;

CREATE TABLE provenance (
    entry_id            BIGINT PRIMARY KEY REFERENCES cache_entries (id) ON DELETE CASCADE,
    repository          TEXT,
    commit_sha          TEXT,
    branch              TEXT,
    toolchain           JSONB,
    build_id            TEXT,
    duration_ms         BIGINT,
    dependency_digests  JSONB
);
