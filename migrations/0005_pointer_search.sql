-- Consumer search (issue 4; docs/consumer-api.md): what ITI-67 searches, indexed at write time
-- from the DocumentReference (`searchFactsOf` in @nir/core), so that one patient's search is one
-- indexed query over plain columns and the stored JSON is never parsed to filter it.
--
-- search_tokens   token keys '<param>|<system>|<code>' with ' ' as the any-system / any-code
--                 wildcard: status, setting, facility, event, format, security-label,
--                 identifier, related, related:identifier
-- date_*          DocumentReference.date as the half-open range its precision covers
-- creation_*      content[].attachment.creation ranges, one element per attachment
-- period_*        context.period; open ends are -infinity / infinity
-- facts_version   which version of searchFactsOf wrote the facts; the registry recomputes older
--                 rows at start (0 = rows written before this migration)
ALTER TABLE pointer
  ADD COLUMN search_tokens  text[] NOT NULL DEFAULT '{}',
  ADD COLUMN date_low       timestamptz,
  ADD COLUMN date_high      timestamptz,
  ADD COLUMN creation_low   timestamptz[] NOT NULL DEFAULT '{}',
  ADD COLUMN creation_high  timestamptz[] NOT NULL DEFAULT '{}',
  ADD COLUMN period_low     timestamptz,
  ADD COLUMN period_high    timestamptz,
  ADD COLUMN facts_version  integer NOT NULL DEFAULT 0;

-- The consumer search: one patient's pointers newest first, the keyset of paging.
CREATE INDEX pointer_patient_recent ON pointer (nhs_number, created_on DESC, id DESC);

-- Rows whose facts are out of date, for the start-up reindex.
CREATE INDEX pointer_facts_version ON pointer (facts_version);
