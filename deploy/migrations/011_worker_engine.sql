-- 011: what each worker's engine is and holds, for GET /api/v1/workers: its DOCKER_HOST,
-- version, the registry it pulls from, and its image references (the registry's prefix
-- taken off, so that they compare with the catalogue's), refreshed by the heartbeat.
ALTER TABLE workers
	ADD COLUMN docker_host text,
	ADD COLUMN engine_version text,
	ADD COLUMN registry text,
	ADD COLUMN images text[] NOT NULL DEFAULT '{}',
	ADD COLUMN engine_at timestamptz;
