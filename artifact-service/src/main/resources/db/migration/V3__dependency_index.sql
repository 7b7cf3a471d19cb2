-- Seed 004's index (issue 21): how often an entry was used, the lockfiles and toolchain it was built
-- from (dependency caches), so entries can be found and invalidated by them; the commit message of
-- its provenance.
ALTER TABLE cache_entries ADD COLUMN access_count BIGINT NOT NULL DEFAULT 0;
ALTER TABLE cache_entries ADD COLUMN lockfile_hash TEXT;
ALTER TABLE cache_entries ADD COLUMN toolchain JSONB;
ALTER TABLE provenance ADD COLUMN commit_message TEXT;

-- Lookups and invalidation by repository and toolchain (equality), by tool or tool version
-- (containment: toolchain @> '{"node":"20.11.1"}', toolchain ? 'node'), and by lockfile hash.
DROP INDEX cache_entries_repository;
CREATE INDEX cache_entries_repository ON cache_entries (tenant_id, repository, toolchain) WHERE deleted_at IS NULL;
CREATE INDEX cache_entries_toolchain ON cache_entries USING gin (toolchain) WHERE deleted_at IS NULL;
CREATE INDEX cache_entries_lockfile ON cache_entries (tenant_id, lockfile_hash) WHERE deleted_at IS NULL AND lockfile_hash IS NOT NULL;
-- The most used entries (API and dashboard).
CREATE INDEX cache_entries_popular ON cache_entries (access_count DESC) WHERE deleted_at IS NULL;
