-- replay-service owns this schema: the index of recordings stored in its S3 bucket.
CREATE TABLE recordings (
    cache_key       CHAR(64) PRIMARY KEY,
    tenant_id       TEXT        NOT NULL,
    build_id        TEXT        NOT NULL,
    repository      TEXT        NOT NULL,
    commit_sha      TEXT        NOT NULL,
    tool            TEXT        NOT NULL,
    status          TEXT        NOT NULL CHECK (status IN ('SUCCESS', 'FAILURE')),
    object_key      TEXT        NOT NULL,
    bytes           BIGINT      NOT NULL CHECK (bytes >= 0),
    duration_ms     BIGINT      NOT NULL CHECK (duration_ms >= 0),
    created_at      TIMESTAMPTZ NOT NULL DEFAULT now(),
    access_count    BIGINT      NOT NULL DEFAULT 0,
    last_access_at  TIMESTAMPTZ,
    expires_at      TIMESTAMPTZ NOT NULL
);
CREATE INDEX recordings_repository ON recordings (tenant_id, repository);
CREATE INDEX recordings_expiry ON recordings (expires_at);
