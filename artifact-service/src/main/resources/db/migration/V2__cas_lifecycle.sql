-- The CAS proper (issue 5). A blob's bytes live in S3 under object_key, a name unique to one upload
-- (generation), so the collector deleting an old object can never delete a re-upload of the same content.
ALTER TABLE blobs ADD COLUMN object_key TEXT;
ALTER TABLE blobs ADD COLUMN verified_at TIMESTAMPTZ;
ALTER TABLE blobs ADD COLUMN quarantined_at TIMESTAMPTZ;
ALTER TABLE blobs ADD COLUMN quarantine_reason TEXT;
CREATE INDEX blobs_verify_order ON blobs (verified_at NULLS FIRST) WHERE deleted_at IS NULL AND quarantined_at IS NULL;

-- version: actions/cache's version (paths + compression); empty for the other protocols.
-- metadata: what a protocol must hand back on a hit (Turborepo's duration and tag).
ALTER TABLE cache_entries ADD COLUMN version TEXT NOT NULL DEFAULT '';
ALTER TABLE cache_entries ADD COLUMN metadata JSONB NOT NULL DEFAULT '{}';
ALTER TABLE cache_entries ADD COLUMN deleted_reason TEXT;
DROP INDEX cache_entries_key;
CREATE UNIQUE INDEX cache_entries_key ON cache_entries (tenant_id, protocol, cache_key, version) WHERE deleted_at IS NULL;
-- Prefix matching (restore keys, invalidation by prefix) with LIKE 'prefix%'.
CREATE INDEX cache_entries_prefix ON cache_entries (tenant_id, protocol, cache_key text_pattern_ops) WHERE deleted_at IS NULL;
CREATE INDEX cache_entries_digest ON cache_entries (digest) WHERE deleted_at IS NULL;
CREATE INDEX cache_entries_repository ON cache_entries (tenant_id, repository) WHERE deleted_at IS NULL;
CREATE INDEX cache_entries_expiry ON cache_entries (expires_at) WHERE deleted_at IS NULL AND expires_at IS NOT NULL;
CREATE INDEX cache_entries_deleted ON cache_entries (deleted_at) WHERE deleted_at IS NOT NULL;

-- Soft-deleted entries keep the digest they pointed at (audit) after the collector removed the blob.
ALTER TABLE cache_entries DROP CONSTRAINT cache_entries_digest_fkey;
