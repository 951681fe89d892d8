-- 001: the platform's first schema: targets, runs with their event history, results.

-- RFC 3339 UTC with microseconds, the one timestamp format the API serves.
CREATE FUNCTION ff_ts(t timestamptz) RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');

-- Uploaded source trees, content-addressed.
CREATE TABLE targets (
	sha256     text PRIMARY KEY CHECK (sha256 ~ '^[0-9a-f]{64}$'),
	size       bigint NOT NULL,
	content    bytea NOT NULL,
	created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE runs (
	id               uuid PRIMARY KEY,
	workflow         text NOT NULL,
	workflow_version text NOT NULL,
	target           text NOT NULL REFERENCES targets (sha256),
	parameters       jsonb NOT NULL,
	priority         smallint NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 9),
	labels           jsonb NOT NULL DEFAULT '{}',
	pool             text NOT NULL,
	job              jsonb NOT NULL, -- the job message, so a run can always be (re)published
	state            text NOT NULL CHECK (state IN ('queued', 'running', 'retrying',
	                                 'succeeded', 'failed', 'timed_out', 'cancelled')),
	attempt          int NOT NULL DEFAULT 0,
	max_attempts     int NOT NULL,
	worker           text,
	exit_code        int,
	error            text,
	progress         int NOT NULL DEFAULT 0,
	progress_text    text,
	findings_summary jsonb,
	published        boolean NOT NULL DEFAULT false, -- the broker confirmed the job message
	lease_until      timestamptz,
	created_at       timestamptz NOT NULL DEFAULT clock_timestamp(),
	started_at       timestamptz,
	finished_at      timestamptz
);
CREATE INDEX runs_newest ON runs (created_at DESC, id DESC);
CREATE INDEX runs_state_newest ON runs (state, created_at DESC, id DESC);
CREATE INDEX runs_unpublished ON runs (created_at) WHERE NOT published;

-- Every state transition, appended in the same transaction as the transition itself.
CREATE TABLE run_events (
	id      bigserial PRIMARY KEY,
	run_id  uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	ts      timestamptz NOT NULL DEFAULT clock_timestamp(),
	state   text NOT NULL,
	attempt int NOT NULL,
	message text
);
CREATE INDEX run_events_by_run ON run_events (run_id, id);

-- One row per finished run: the raw SARIF log and the container's output.
CREATE TABLE run_results (
	run_id         uuid PRIMARY KEY REFERENCES runs (id) ON DELETE CASCADE,
	sarif          bytea,
	logs           bytea NOT NULL,
	logs_truncated boolean NOT NULL
);

-- The SARIF results, normalised.
CREATE TABLE findings (
	run_id      uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	idx         int NOT NULL,
	rule_id     text NOT NULL,
	level       text NOT NULL,
	message     text NOT NULL,
	path        text,
	start_line  int NOT NULL,
	end_line    int NOT NULL,
	fingerprint text NOT NULL,
	PRIMARY KEY (run_id, idx)
);
CREATE INDEX findings_by_level ON findings (run_id, level);

-- Files the workflow left under /results/artifacts/.
CREATE TABLE artifacts (
	run_id  uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	name    text NOT NULL,
	size    bigint NOT NULL,
	content bytea NOT NULL,
	PRIMARY KEY (run_id, name)
);
