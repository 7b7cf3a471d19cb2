-- A running build's runner proves it is alive; a request redelivered while the heartbeat is
-- fresh (e.g. after a rebalance) waits for that runner instead of declaring the build lost.
ALTER TABLE executions ADD COLUMN heartbeat_at TIMESTAMPTZ NOT NULL DEFAULT now();
