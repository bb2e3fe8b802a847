-- R6 without a catalogue read per request (issue 15, point 1). Each instance holds the
-- Controller Catalogue in memory with the version it was read at; every change to an
-- organisation, a client system or a grant bumps this one row in the same transaction (a
-- statement trigger, so no writer can forget it: the admin API, the CLI, an import or plain
-- SQL), and each request's own data statement reads the version beside its rows. A request
-- decided on an older version is re-authorised on the new catalogue and redone before anything
-- is sent. The NOTIFY lets instances reload early; correctness never depends on it.
CREATE TABLE catalogue_version (
  only_row  boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  version   bigint NOT NULL
);
INSERT INTO catalogue_version (version) VALUES (1);

CREATE FUNCTION catalogue_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  next_version bigint;
BEGIN
  UPDATE catalogue_version SET version = version + 1 RETURNING version INTO next_version;
  PERFORM pg_notify('nir_catalogue', next_version::text);
  RETURN NULL;
END;
$$;

CREATE TRIGGER organisation_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON organisation
  FOR EACH STATEMENT EXECUTE FUNCTION catalogue_version_bump();
CREATE TRIGGER client_system_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON client_system
  FOR EACH STATEMENT EXECUTE FUNCTION catalogue_version_bump();
CREATE TRIGGER catalogue_grant_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON catalogue_grant
  FOR EACH STATEMENT EXECUTE FUNCTION catalogue_version_bump();

-- The version row is never deleted or added to.
CREATE FUNCTION catalogue_version_is_one_row() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'catalogue_version holds exactly one row';
END;
$$;
CREATE TRIGGER catalogue_version_one_row BEFORE INSERT OR DELETE ON catalogue_version
  FOR EACH ROW EXECUTE FUNCTION catalogue_version_is_one_row();
