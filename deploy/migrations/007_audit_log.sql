-- 007: the audit log: one row per request the API answered, written in batches off the
-- request path (controller/audit.c), kept FF_AUDIT_DAYS.
CREATE TABLE audit_log (
	id          bigserial PRIMARY KEY,
	at          timestamptz NOT NULL,   -- when the request began
	key_id      text,                   -- api_keys.id, 'bootstrap' (FF_API_KEY); NULL: no valid key
	method      text NOT NULL,
	route       text,                   -- the route template; NULL when none matched
	status      int NOT NULL,
	request_id  text NOT NULL,
	bytes_in    bigint NOT NULL,        -- the request's head and body
	bytes_out   bigint NOT NULL,        -- the reply's head and body
	duration_ms double precision NOT NULL,
	client      text                    -- the peer address (a balancer's, behind one)
);
CREATE INDEX audit_log_at ON audit_log (at);
CREATE INDEX audit_log_key ON audit_log (key_id, id);
