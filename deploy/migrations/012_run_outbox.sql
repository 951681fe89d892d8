-- 012: the outbox as a table of its own. A row is a job the broker has not confirmed yet:
-- the job that starts attempt `attempt` of run `run_id`. It is inserted in the transaction
-- that makes the job due (a submit, a retry, a hand-back, a requeue) and deleted once the
-- broker confirms the publish. `gen` counts the times it was made due again while there
-- (a hand-back before the confirm was recorded): a confirm deletes only the row it
-- published, so such a job is published again. runs.published did the same as a column, but setting it
-- rewrote the whole run row and all of its index entries (the partial index on it made the
-- update never HOT): at 2,000 submits/s that update cost PostgreSQL four times the submit
-- itself. A delete only marks its row dead.
-- No foreign key: its check would lock the run's row at every submit. Runs are never
-- deleted, and the outbox sweep drops the rows of runs that have moved on.
CREATE TABLE run_outbox (
	run_id  uuid NOT NULL,
	attempt int NOT NULL,
	gen     int NOT NULL DEFAULT 0,
	PRIMARY KEY (run_id, attempt)
);
INSERT INTO run_outbox (run_id, attempt)
	SELECT id, attempt + 1 FROM runs
	WHERE NOT published AND state IN ('queued', 'retrying');
DROP INDEX runs_unpublished;
ALTER TABLE runs DROP COLUMN published;
