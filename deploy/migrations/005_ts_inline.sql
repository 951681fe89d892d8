-- 005: ff_ts (a timestamp as the API shows it) declared STABLE, which is what its body is
-- (to_char depends on settings). Declared IMMUTABLE it could not be inlined, and every call
-- went through the SQL-function machinery: a third of the time spent building a page of
-- runs as JSON. Inlined, the call costs what to_char costs.
CREATE OR REPLACE FUNCTION ff_ts(t timestamptz) RETURNS text
	LANGUAGE sql STABLE PARALLEL SAFE
	RETURN to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"');
