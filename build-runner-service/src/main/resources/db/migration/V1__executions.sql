-- build-runner-service owns this schema: which runner holds which build, so a restarted runner
-- can tell a build it already finished from one it must re-run or report failed.
CREATE TABLE executions (
    build_id     TEXT PRIMARY KEY,
    cache_key    CHAR(64)    NOT NULL,
    runner_id    TEXT        NOT NULL,
    status       TEXT        NOT NULL CHECK (status IN ('RUNNING', 'SUCCESS', 'FAILURE', 'TIMEOUT', 'CANCELLED')),
    attempt      INTEGER     NOT NULL DEFAULT 1,
    last_seq     BIGINT      NOT NULL DEFAULT 0,
    started_at   TIMESTAMPTZ NOT NULL DEFAULT now(),
    finished_at  TIMESTAMPTZ,
    exit_code    INTEGER
);
CREATE INDEX executions_running ON executions (runner_id) WHERE status = 'RUNNING';
