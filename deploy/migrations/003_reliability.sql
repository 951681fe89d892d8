-- 003: what keeps every accepted run alive through failures: leases, retries, dead letters,
-- worker registry, idempotent submits.

ALTER TABLE runs
	ADD COLUMN next_attempt_at timestamptz,   -- when a retrying run is due
	ADD COLUMN lease_losses int NOT NULL DEFAULT 0, -- attempts lost with their worker
	ADD COLUMN idempotency_key text,
	ADD COLUMN request_sha256 text;
CREATE UNIQUE INDEX runs_idempotency_key ON runs (idempotency_key) WHERE idempotency_key IS NOT NULL;
CREATE INDEX runs_leases ON runs (lease_until) WHERE state = 'running';

CREATE TABLE workers (
	id             text PRIMARY KEY,
	host           text NOT NULL,
	pool           text NOT NULL,
	concurrency    int NOT NULL,
	running        int NOT NULL DEFAULT 0,
	state          text NOT NULL CHECK (state IN ('active', 'draining', 'stopped', 'lost')),
	started_at     timestamptz NOT NULL DEFAULT now(),
	last_heartbeat timestamptz NOT NULL DEFAULT now()
);

-- Runs whose job ended in the dead-letter queue, for the API; the broker's ff.dead queue
-- keeps the messages themselves.
CREATE TABLE dead_letters (
	run_id     uuid PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
	attempts   int NOT NULL,
	last_error text,
	at         timestamptz NOT NULL DEFAULT clock_timestamp()
);
