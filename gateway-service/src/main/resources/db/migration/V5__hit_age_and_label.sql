-- A build answered from cache keeps what replay-service said of the recording when it was served: its age
-- then, its label (Fresh, Recent, Cached), whether it was stale and the live build queued to refresh it, so
-- GET /api/v1/builds/{id} and the web UI show them later.
ALTER TABLE build_requests ADD COLUMN hit_age_seconds bigint, ADD COLUMN hit_label text,
    ADD COLUMN hit_stale boolean, ADD COLUMN refresh_build_id text;
