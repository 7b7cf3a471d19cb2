-- The tenant a build runs for: a tenant's running builds, on all runners together, are counted
-- against its fair share (reprise.runner.tenant-share).
ALTER TABLE executions ADD COLUMN tenant_id TEXT;
CREATE INDEX executions_tenant_running ON executions (tenant_id) WHERE status = 'RUNNING';
