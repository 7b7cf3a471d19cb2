-- Eviction reads entries by their last read (or creation, when never read).
CREATE INDEX recordings_last_read ON recordings ((coalesce(last_access_at, created_at)));

-- What the cache did, per tenant and hour: the admin API's totals and series, shared by every
-- replay instance and kept across restarts (Prometheus counters are per process).
CREATE TABLE cache_stats (
    hour            TIMESTAMPTZ NOT NULL,
    tenant_id       TEXT        NOT NULL,
    hits            BIGINT      NOT NULL DEFAULT 0,
    misses          BIGINT      NOT NULL DEFAULT 0,
    stale_hits      BIGINT      NOT NULL DEFAULT 0,
    replays         BIGINT      NOT NULL DEFAULT 0,
    replay_errors   BIGINT      NOT NULL DEFAULT 0,
    evictions       BIGINT      NOT NULL DEFAULT 0,
    invalidations   BIGINT      NOT NULL DEFAULT 0,
    saved_ms        BIGINT      NOT NULL DEFAULT 0,
    PRIMARY KEY (tenant_id, hour)
);
