-- What the builder records: the pinned base, where the image lives, why a build failed, and a
-- heartbeat so a build whose instance died is noticed and can be retried.
ALTER TABLE images
    ADD COLUMN base_digest       TEXT,
    ADD COLUMN reference         TEXT,
    ADD COLUMN failure_reason    TEXT,
    ADD COLUMN build_started_at  TIMESTAMPTZ,
    ADD COLUMN build_finished_at TIMESTAMPTZ,
    ADD COLUMN heartbeat_at      TIMESTAMPTZ;

CREATE INDEX images_base_image ON images (base_image);
CREATE INDEX images_last_used ON images (COALESCE(last_used_at, created_at));
