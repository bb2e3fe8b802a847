-- R15: the conformance sandbox. A database is marked as a sandbox once, when a registry with
-- NIR_SANDBOX=true first starts on it, and only while it has never held a pointer (so a
-- production database, whose pointers are real patients', can never be marked). The mark is
-- permanent (no UPDATE, no DELETE). Only in a marked database may the operator's sandbox reset
-- (`nir conformance reset`, which sets `nir.sandbox_reset` for its own transaction) delete a
-- supplier's audit events and pointer history; everywhere else both stay immutable.
CREATE TABLE sandbox_registry (
  only_row   boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  marked_at  timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION sandbox_registry_guard() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' THEN
    RAISE EXCEPTION 'the sandbox mark is permanent';
  END IF;
  IF EXISTS (SELECT 1 FROM pointer_history) THEN
    RAISE EXCEPTION 'a database that has held pointers cannot become a sandbox';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER sandbox_registry_guard
  BEFORE INSERT OR UPDATE OR DELETE ON sandbox_registry
  FOR EACH ROW EXECUTE FUNCTION sandbox_registry_guard();

-- True only inside a sandbox reset's transaction in a marked database.
CREATE FUNCTION sandbox_reset_allowed() RETURNS boolean LANGUAGE sql STABLE AS $$
  SELECT coalesce(current_setting('nir.sandbox_reset', true), '') = 'on'
     AND EXISTS (SELECT 1 FROM sandbox_registry)
$$;

CREATE OR REPLACE FUNCTION audit_event_is_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND sandbox_reset_allowed() THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'audit_event is immutable: retention drops whole partitions';
END;
$$;

CREATE OR REPLACE FUNCTION pointer_history_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' AND sandbox_reset_allowed() THEN
    RETURN OLD;
  END IF;
  RAISE EXCEPTION 'pointer_history is append-only';
END;
$$;
