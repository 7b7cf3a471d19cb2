-- INTERRUPTED: the runner crashed or shut down mid-build. Not the build's own result: never cached.
ALTER TABLE build_requests DROP CONSTRAINT build_requests_status;
ALTER TABLE build_requests
    ADD CONSTRAINT build_requests_status CHECK (status IN ('QUEUED', 'RUNNING', 'SUCCESS', 'FAILURE', 'TIMEOUT', 'CANCELLED', 'INTERRUPTED'));
