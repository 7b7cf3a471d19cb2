-- What a build was asked to do and how it ended, plus the coalescing rule: at most one active
-- (queued or running) build per tenant and cache key; identical requests attach to it.
ALTER TABLE build_requests
    ADD COLUMN command         TEXT,
    ADD COLUMN env             JSONB       NOT NULL DEFAULT '{}'::jsonb,
    ADD COLUMN fresh           BOOLEAN     NOT NULL DEFAULT false,
    ADD COLUMN timeout_seconds INTEGER,
    ADD COLUMN runner_id       TEXT,
    ADD COLUMN duration_ms     BIGINT,
    ADD COLUMN reason          TEXT,
    ADD COLUMN updated_at      TIMESTAMPTZ NOT NULL DEFAULT now();

ALTER TABLE build_requests
    ADD CONSTRAINT build_requests_status CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCESS', 'FAILURE', 'TIMEOUT', 'CANCELLED'));

CREATE UNIQUE INDEX build_requests_active_key ON build_requests (tenant_id, cache_key)
    WHERE status IN ('QUEUED', 'RUNNING');
CREATE INDEX build_requests_tenant_status ON build_requests (tenant_id, status, requested_at DESC);
