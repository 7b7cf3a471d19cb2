-- INTERRUPTED: a build this or another runner did not finish (crash or shutdown mid-build).
ALTER TABLE executions DROP CONSTRAINT executions_status_check;
ALTER TABLE executions
    ADD CONSTRAINT executions_status_check CHECK (status IN ('RUNNING', 'SUCCESS', 'FAILURE', 'TIMEOUT', 'CANCELLED', 'INTERRUPTED'));
