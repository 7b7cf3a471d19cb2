-- image-cache-service owns this schema: images pre-built per dependency set, found by its hash.
CREATE TABLE images (
    id               TEXT PRIMARY KEY,
    dependency_hash  CHAR(64)    NOT NULL UNIQUE,
    tag              TEXT        NOT NULL,
    base_image       TEXT        NOT NULL,
    size_bytes       BIGINT,
    registry_digest  TEXT,
    status           TEXT        NOT NULL CHECK (status IN ('PENDING', 'BUILDING', 'COMPLETED', 'FAILED')),
    build_log        TEXT,
    metadata         JSONB       NOT NULL DEFAULT '{}'::jsonb,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    last_used_at     TIMESTAMPTZ,
    cache_hits       BIGINT      NOT NULL DEFAULT 0
);

CREATE TABLE image_dependencies (
    image_id  TEXT NOT NULL REFERENCES images (id) ON DELETE CASCADE,
    type      TEXT NOT NULL CHECK (type IN ('apt', 'npm', 'pip', 'system')),
    name      TEXT NOT NULL,
    version   TEXT,
    PRIMARY KEY (image_id, type, name)
);
