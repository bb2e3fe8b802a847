-- Issue 19: the registry on Citus. Applied by the migrator after the ordinary migrations, and
-- only in a database where the `citus` extension is installed (PostgreSQL and PGlite never see
-- it). The application's SQL is the same on every backend; this step only decides where rows
-- live. docs/SCALING.md "Citus" gives the reasons at length.
--
-- Two kinds of table:
--   reference    small, read by every hot statement or by everyone (the Controller Catalogue
--                and its version, signing keys, export jobs, the sandbox mark, the facts state):
--                a copy on every node, so a statement on one worker reads them locally.
--   distributed  hash-distributed on a text column, all in one colocation group:
--                pointer,               by NHS number: a patient's pointers and their history
--                pointer_history        on one shard (a write's pointer row and history row are
--                                       on one worker; the history of a patient, R9, is one shard)
--                audit_event            by shard_key (migration 0013): one value per written
--                                       batch, so a batch of many patients' events is one shard
--                pointer_locator        by pointer id: finding a pointer's NHS number from its id
--                                       is one single-shard lookup, never a fan-out
--                audit_rollup           by organisation (ods), audit_access_rollup by custodian
--                client_assertion_jti   by client id
--
-- Triggers run on the shards (placements) on the workers. Citus refuses to distribute a table
-- with triggers unless citus.enable_unsafe_triggers is on; it is on for this transaction only.
-- Ours are safe on shards: the append-only and immutable ones only raise, and those that read
-- or write another table do so through that table's placement on the same node (below).
SET LOCAL citus.enable_unsafe_triggers = on;
SET LOCAL citus.multi_shard_modify_mode = 'sequential';

-- The triggers that must not fire while Citus copies rows into the new shards, or that are
-- recreated below in their Citus form.
DROP TRIGGER catalogue_version_one_row ON catalogue_version;
DROP TRIGGER organisation_version ON organisation;
DROP TRIGGER client_system_version ON client_system;
DROP TRIGGER catalogue_grant_version ON catalogue_grant;
DROP TRIGGER sandbox_registry_guard ON sandbox_registry;

-- The table's placement on this node (a reference table has one shard, placed on every node):
-- what a trigger on a shard reads or writes instead of the distributed table, which a
-- statement on a shard may not query.
CREATE FUNCTION nir_local_placement(relation regclass) RETURNS text LANGUAGE sql STABLE AS $$
  SELECT format('%I', shard_name(relation, shardid)) FROM pg_dist_shard WHERE logicalrelid = relation
$$;

SELECT create_reference_table('catalogue_version');
SELECT create_reference_table('organisation');
SELECT create_reference_table('client_system');
SELECT create_reference_table('catalogue_grant');
SELECT create_reference_table('catalogue_change');
SELECT create_reference_table('signing_key');
SELECT create_reference_table('audit_export_job');
SELECT create_reference_table('sandbox_registry');
SELECT create_reference_table('search_facts_state');

SELECT create_distributed_table('pointer', 'nhs_number');
SELECT create_distributed_table('pointer_locator', 'id', colocate_with => 'pointer');
-- pointer_history's key gains the NHS number (Citus keeps a unique key per shard); (id, version)
-- stays unique because every writer of an id holds its locator row locked.
ALTER TABLE pointer_history DROP CONSTRAINT pointer_history_pkey;
ALTER TABLE pointer_history ADD PRIMARY KEY (nhs_number, id, version);
CREATE INDEX pointer_history_id ON pointer_history (id, version);
SELECT create_distributed_table('pointer_history', 'nhs_number', colocate_with => 'pointer');
SELECT create_distributed_table('client_assertion_jti', 'client_id', colocate_with => 'pointer');
SELECT create_distributed_table('audit_rollup', 'ods', colocate_with => 'pointer');
SELECT create_distributed_table('audit_access_rollup', 'custodian', colocate_with => 'pointer');

-- audit_event: its rows from before migration 0013 get their key (the immutability trigger is
-- off for this one fill), and the primary key gains it (Citus keeps a unique key per shard).
ALTER TABLE audit_event DISABLE TRIGGER audit_event_immutable;
UPDATE audit_event SET shard_key = id::text WHERE shard_key IS NULL;
ALTER TABLE audit_event ENABLE TRIGGER audit_event_immutable;
ALTER TABLE audit_event ALTER COLUMN shard_key SET NOT NULL;
ALTER TABLE audit_event DROP CONSTRAINT audit_event_pkey;
ALTER TABLE audit_event ADD PRIMARY KEY (recorded, id, shard_key);
SELECT create_distributed_table('audit_event', 'shard_key', colocate_with => 'pointer');

-- R6 (migration 0010): every catalogue write bumps the version in its own transaction. Citus
-- runs a reference table's write on each of its placements (every node, one distributed
-- transaction) and fires row triggers there; it neither propagates statement triggers to the
-- placements nor fires them on the coordinator's shell table. So on Citus the bump is a row
-- trigger on each placement that adds one to the version's placement on the same node: every
-- copy moves by the same amount (one per row written; additions commute, so concurrent writers
-- cannot make copies diverge) and the version still rises with every catalogue write. The
-- shell table never fires it; the guard at the top only documents that. Only the coordinator's
-- placement notifies (below). A TRUNCATE fires no row
-- trigger: on Citus it does not bump (docs/SCALING.md, Citus).
CREATE OR REPLACE FUNCTION catalogue_version_bump() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  next_version bigint;
BEGIN
  IF TG_TABLE_NAME IN ('organisation', 'client_system', 'catalogue_grant') THEN
    RETURN NULL;
  END IF;
  EXECUTE format('UPDATE %s SET version = version + 1 RETURNING version', nir_local_placement('catalogue_version'))
    INTO next_version;
  -- Only the coordinator (group 0) tells listeners: a worker's part of a distributed
  -- transaction is PREPAREd, which a NOTIFY forbids; the registry listens on the coordinator.
  IF (SELECT groupid FROM pg_dist_local_group) = 0 THEN
    PERFORM pg_notify('nir_catalogue', next_version::text);
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER organisation_version AFTER INSERT OR UPDATE OR DELETE ON organisation
  FOR EACH ROW EXECUTE FUNCTION catalogue_version_bump();
CREATE TRIGGER client_system_version AFTER INSERT OR UPDATE OR DELETE ON client_system
  FOR EACH ROW EXECUTE FUNCTION catalogue_version_bump();
CREATE TRIGGER catalogue_grant_version AFTER INSERT OR UPDATE OR DELETE ON catalogue_grant
  FOR EACH ROW EXECUTE FUNCTION catalogue_version_bump();
CREATE TRIGGER catalogue_version_one_row BEFORE INSERT OR DELETE ON catalogue_version
  FOR EACH ROW EXECUTE FUNCTION catalogue_version_is_one_row();

-- R15, the sandbox (migration 0009), whose triggers read other tables. On a shard they read
-- this node's placements: `sandbox_registry` is a reference table (a copy on every node), and
-- the mark's guard, firing on every placement of `sandbox_registry`, looks at the shards of
-- `pointer_history` on its own node, so that together the placements look at every shard.
CREATE FUNCTION nir_local_rows_exist(relation regclass) RETURNS boolean LANGUAGE plpgsql STABLE AS $$
DECLARE
  shard text;
  found boolean;
BEGIN
  FOR shard IN
    SELECT format('%I', shard_name(relation, s.shardid)) FROM pg_dist_shard s JOIN pg_dist_placement p USING (shardid)
    WHERE s.logicalrelid = relation AND p.groupid = (SELECT groupid FROM pg_dist_local_group)
  LOOP
    EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s)', shard) INTO found;
    IF found THEN
      RETURN true;
    END IF;
  END LOOP;
  RETURN false;
END;
$$;

CREATE OR REPLACE FUNCTION sandbox_registry_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    RAISE EXCEPTION 'the sandbox mark is permanent';
  END IF;
  IF nir_local_rows_exist('pointer_history') THEN
    RAISE EXCEPTION 'a database that has held pointers cannot become a sandbox';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER sandbox_registry_guard BEFORE INSERT OR UPDATE OR DELETE ON sandbox_registry
  FOR EACH ROW EXECUTE FUNCTION sandbox_registry_guard();

CREATE OR REPLACE FUNCTION sandbox_reset_allowed() RETURNS boolean LANGUAGE plpgsql STABLE AS $$
DECLARE
  marked boolean;
BEGIN
  IF coalesce(current_setting('nir.sandbox_reset', true), '') <> 'on' THEN
    RETURN false;
  END IF;
  EXECUTE format('SELECT EXISTS (SELECT 1 FROM %s)', nir_local_placement('sandbox_registry')) INTO marked;
  RETURN marked;
END;
$$;

-- The sandbox reset sets `nir.sandbox_reset` with SET LOCAL for its transaction; the triggers
-- that read it run on the workers, so the coordinator passes SET LOCAL on to them.
DO $$
BEGIN
  EXECUTE format('ALTER DATABASE %I SET citus.propagate_set_commands = local', current_database());
END;
$$;
