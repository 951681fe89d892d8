-- 002: API keys. Only a key's SHA-256 is stored; the key itself is shown once, when made.
CREATE TABLE api_keys (
	name       text PRIMARY KEY,
	key_sha256 text NOT NULL CHECK (key_sha256 ~ '^[0-9a-f]{64}$'),
	created_at timestamptz NOT NULL DEFAULT now()
);
