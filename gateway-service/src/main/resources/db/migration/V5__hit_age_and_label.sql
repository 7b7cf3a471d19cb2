-- A build answered from cache keeps what replay-service said of the recording when it was served: its age
-- then and its label (Fresh, Recent, Cached), so GET /api/v1/builds/{id} and the web UI show them later.
ALTER TABLE build_requests ADD COLUMN hit_age_seconds bigint, ADD COLUMN hit_label text;
