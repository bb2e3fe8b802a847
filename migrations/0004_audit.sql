-- R7–R10: the audit trail. One row per AuditEvent (IHE BALP / NHS PARS), the resource as JSON
-- plus the facts searched on. Immutable: no UPDATE or DELETE, whoever asks; retention drops
-- whole expired month partitions (audit_drop_partitions_before), never rows.
--
-- RANGE-partitioned by month on `recorded` (UTC months). Partitions are created ahead by the
-- store (audit_ensure_partition), for the current month and a few ahead, and for any month an
-- insert needs. Event ids are UUIDv7 of `recorded`, so an id names its partition.
CREATE TABLE audit_event (
  id               uuid NOT NULL,
  recorded         timestamptz NOT NULL,
  request_id       text,
  subtype          text NOT NULL,
  ihe_transaction  text,
  action           text NOT NULL CHECK (action IN ('C', 'R', 'U', 'D', 'E')),
  outcome          text NOT NULL CHECK (outcome IN ('0', '4', '8', '12')),
  client_id        text,
  -- The verified organisation the request was made for (R8: accesses on its behalf).
  requester_ods    text,
  -- Custodians of the pointers involved (R8: accesses to the pointers it published).
  custodian_ods    text[] NOT NULL DEFAULT '{}',
  -- One patient per event (BALP); R9 subject access requests.
  patient_nhs      text,
  resource         jsonb NOT NULL,
  PRIMARY KEY (recorded, id)
) PARTITION BY RANGE (recorded);

CREATE INDEX audit_event_requester ON audit_event (requester_ods, recorded, id);
CREATE INDEX audit_event_custodian ON audit_event USING gin (custodian_ods);
CREATE INDEX audit_event_patient ON audit_event (patient_nhs, recorded, id);

CREATE FUNCTION audit_event_is_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit_event is immutable: retention drops whole partitions';
END;
$$;
CREATE TRIGGER audit_event_immutable
  BEFORE UPDATE OR DELETE ON audit_event
  FOR EACH ROW EXECUTE FUNCTION audit_event_is_immutable();

-- Creates the partition of the UTC month holding `at` unless it exists; returns its name.
-- Serialised by a transaction-level advisory lock so concurrent instances never race.
CREATE FUNCTION audit_ensure_partition(at timestamptz) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
  month_start timestamp := date_trunc('month', at AT TIME ZONE 'UTC');
  part text := 'audit_event_p' || to_char(month_start, 'YYYYMM');
BEGIN
  IF to_regclass(part) IS NOT NULL THEN
    RETURN part;
  END IF;
  PERFORM pg_advisory_xact_lock(727272004);
  IF to_regclass(part) IS NULL THEN
    EXECUTE format(
      'CREATE TABLE %I PARTITION OF audit_event FOR VALUES FROM (%L) TO (%L)',
      part,
      month_start AT TIME ZONE 'UTC',
      (month_start + interval '1 month') AT TIME ZONE 'UTC'
    );
  END IF;
  RETURN part;
END;
$$;

-- Retention: drops every month partition that ends at or before `cutoff`; returns their names.
CREATE FUNCTION audit_drop_partitions_before(cutoff timestamptz) RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
  part text;
  month_end timestamptz;
BEGIN
  PERFORM pg_advisory_xact_lock(727272004);
  FOR part IN
    SELECT c.relname::text FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
    WHERE i.inhparent = 'audit_event'::regclass AND c.relname ~ '^audit_event_p[0-9]{6}$'
    ORDER BY c.relname
  LOOP
    month_end := (to_date(substr(part, 14, 6), 'YYYYMM')::timestamp + interval '1 month') AT TIME ZONE 'UTC';
    IF month_end <= cutoff THEN
      EXECUTE format('DROP TABLE %I', part);
      RETURN NEXT part;
    END IF;
  END LOOP;
END;
$$;

-- R8: FHIR Bulk Data export jobs of the audit API. Kept in the database so that any instance
-- can answer a poll, serve a file or cancel. The files are computed when downloaded (streamed
-- from audit_event in keyset chunks), so a job holds only its query.
CREATE TABLE audit_export_job (
  id                uuid PRIMARY KEY,
  ods_code          text NOT NULL,
  client_id         text NOT NULL,
  request_url       text NOT NULL,
  since             timestamptz,
  transaction_time  timestamptz NOT NULL,
  status            text NOT NULL CHECK (status IN ('active', 'cancelled')),
  created_at        timestamptz NOT NULL DEFAULT now(),
  expires_at        timestamptz NOT NULL
);
