-- Pointers (R1, R11, R12): DocumentReferences naming a patient, a provider, a type and a
-- retrieval URL. Never clinical content (R14).
--
-- `pointer` holds the current version of every live pointer. It is hash-partitioned by NHS
-- number so that one patient's pointers sit together and every consumer query leads with the
-- NHS number (the distribution column if the table ever moves to a distributed engine).
CREATE TABLE pointer (
  nhs_number         text NOT NULL,
  id                 text NOT NULL,
  custodian          text NOT NULL,
  type               text NOT NULL,          -- 'system|code'
  category           text NOT NULL,          -- 'system|code'
  master_identifier  text,                   -- 'system|value'
  version            integer NOT NULL,
  created_on         timestamptz NOT NULL,
  updated_on         timestamptz NOT NULL,
  resource           json NOT NULL,          -- as published (element order kept), spliced into responses
  PRIMARY KEY (nhs_number, id)
) PARTITION BY HASH (nhs_number);

CREATE TABLE pointer_p0 PARTITION OF pointer FOR VALUES WITH (MODULUS 8, REMAINDER 0);
CREATE TABLE pointer_p1 PARTITION OF pointer FOR VALUES WITH (MODULUS 8, REMAINDER 1);
CREATE TABLE pointer_p2 PARTITION OF pointer FOR VALUES WITH (MODULUS 8, REMAINDER 2);
CREATE TABLE pointer_p3 PARTITION OF pointer FOR VALUES WITH (MODULUS 8, REMAINDER 3);
CREATE TABLE pointer_p4 PARTITION OF pointer FOR VALUES WITH (MODULUS 8, REMAINDER 4);
CREATE TABLE pointer_p5 PARTITION OF pointer FOR VALUES WITH (MODULUS 8, REMAINDER 5);
CREATE TABLE pointer_p6 PARTITION OF pointer FOR VALUES WITH (MODULUS 8, REMAINDER 6);
CREATE TABLE pointer_p7 PARTITION OF pointer FOR VALUES WITH (MODULUS 8, REMAINDER 7);

-- A provider's own pointers for one patient (producer search), and its pointers by type.
CREATE INDEX pointer_patient_custodian ON pointer (nhs_number, custodian, type);

-- Id → partition key, so that a read, update or delete by id touches one partition. It also
-- makes ids unique across partitions (409 DUPLICATE_REJECTED) and serialises writers of one
-- pointer (SELECT … FOR UPDATE), which makes supersede atomic and race-free.
-- `version` is the pointer's current version; a deleted pointer keeps its row (deleted = true)
-- so that its version history continues if a provider re-creates the id by upsert.
CREATE TABLE pointer_locator (
  id          text PRIMARY KEY,
  nhs_number  text NOT NULL,
  custodian   text NOT NULL,
  version     integer NOT NULL,
  deleted     boolean NOT NULL DEFAULT false
);

-- R10: every create, update, supersede and delete keeps the version it produced; the version
-- before is the previous row. A deletion is a row with no resource. Append-only.
CREATE TABLE pointer_history (
  id             text NOT NULL,
  version        integer NOT NULL,
  nhs_number     text NOT NULL,
  custodian      text NOT NULL,
  action         text NOT NULL CHECK (action IN ('create', 'update', 'delete', 'supersede')),
  recorded_at    timestamptz NOT NULL,
  request_id     text,
  client_id      text,
  superseded_by  text,
  resource       json,
  PRIMARY KEY (id, version)
);

CREATE FUNCTION pointer_history_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'pointer_history is append-only';
END;
$$;
CREATE TRIGGER pointer_history_append_only
  BEFORE UPDATE OR DELETE ON pointer_history
  FOR EACH ROW EXECUTE FUNCTION pointer_history_is_append_only();
