-- 010: a finished run's replies are kept by every controller's result cache (controller/
-- cache.h) until the run changes: requeued (retry, dead-letter requeue) or deleted. Whoever
-- changes it, the trigger tells every listener, at commit, which run to drop.
CREATE FUNCTION ff_run_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_notify('ff_run_changed', OLD.id::text);
	RETURN NULL;
END $$;

CREATE TRIGGER runs_finished_changed AFTER UPDATE OR DELETE ON runs FOR EACH ROW
	WHEN (OLD.state IN ('succeeded', 'failed', 'timed_out', 'cancelled'))
	EXECUTE FUNCTION ff_run_changed();
