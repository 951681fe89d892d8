-- 006: API keys with scopes and rates. FF_API_KEY is the bootstrap admin key; no other key
-- is accepted unless created through POST /api/v1/keys, so 002's generated default key goes.
-- Revoked keys stay (revoked_at) so that the audit trail can name them.
DROP TABLE api_keys;
CREATE TABLE api_keys (
	id           uuid PRIMARY KEY,
	name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 64),
	key_sha256   text NOT NULL UNIQUE CHECK (key_sha256 ~ '^[0-9a-f]{64}$'),
	scopes       text[] NOT NULL CHECK (cardinality(scopes) > 0 AND
	                                    scopes <@ ARRAY['read', 'submit', 'admin']),
	rate_per_s   int CHECK (rate_per_s > 0), -- NULL: FF_RATE_PER_S
	created_at   timestamptz NOT NULL DEFAULT clock_timestamp(),
	last_used_at timestamptz,
	revoked_at   timestamptz
);
CREATE INDEX api_keys_live ON api_keys (created_at) WHERE revoked_at IS NULL;
