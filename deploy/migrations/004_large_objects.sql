-- 004: targets and artifacts as PostgreSQL large objects, so that a worker on any host can
-- stream them in chunks (lo_read) instead of holding a whole bytea value in memory.
-- The bytea columns stay, nullable, for rows written before this migration: existing
-- targets are moved into large objects here; existing artifacts keep their bytea and are
-- served from it. A deleted row unlinks its large object (the trigger below), so objects
-- do not outlive their rows.

ALTER TABLE targets
	ADD COLUMN content_oid oid,
	ALTER COLUMN content DROP NOT NULL;
UPDATE targets SET content_oid = lo_from_bytea(0, content), content = NULL
	WHERE content IS NOT NULL;
ALTER TABLE targets ADD CONSTRAINT targets_has_content
	CHECK (content IS NOT NULL OR content_oid IS NOT NULL);

ALTER TABLE artifacts
	ADD COLUMN content_oid oid,
	ALTER COLUMN content DROP NOT NULL;
ALTER TABLE artifacts ADD CONSTRAINT artifacts_has_content
	CHECK (content IS NOT NULL OR content_oid IS NOT NULL);

CREATE FUNCTION ff_unlink_content_oid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	IF OLD.content_oid IS NOT NULL THEN
		PERFORM lo_unlink(OLD.content_oid);
	END IF;
	RETURN OLD;
END $$;
CREATE TRIGGER targets_unlink AFTER DELETE ON targets
	FOR EACH ROW EXECUTE FUNCTION ff_unlink_content_oid();
CREATE TRIGGER artifacts_unlink AFTER DELETE ON artifacts
	FOR EACH ROW EXECUTE FUNCTION ff_unlink_content_oid();
