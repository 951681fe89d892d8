-- 009: a running run's output, as the worker reads it, for GET /runs/{id}/logs?follow=1.
-- Each row holds the bytes [at, at + length(data)) of one attempt's log. The whole log goes
-- to run_results when the attempt ends, and its pieces are deleted in that transaction.
CREATE TABLE run_log_chunks (
	run_id  uuid NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
	attempt int NOT NULL,
	at      bigint NOT NULL,
	data    bytea NOT NULL,
	PRIMARY KEY (run_id, attempt, at)
);
