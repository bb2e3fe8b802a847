-- Issue 15 item 8: the search facts version every pointer row is known to be at, so that a
-- start finds out in one row, not a scan, whether the search columns (migration 0005) need
-- recomputing. The registry compares it with SEARCH_FACTS_VERSION at start: equal, nothing to
-- do; lower, it serves at once while a background job recomputes the older rows in batches
-- (each search first recomputes its own patient's older rows meanwhile), then records the new
-- version here. The bench loader writes rows at the current version and records it.
CREATE TABLE search_facts_state (
  only_row     boolean PRIMARY KEY DEFAULT true CHECK (only_row),
  version      integer NOT NULL,
  recorded_at  timestamptz NOT NULL DEFAULT now()
);

-- What the rows are at now (the index below answers min() without a scan); no rows: 0, which the
-- first start turns into the current version after an empty walk.
INSERT INTO search_facts_state (version)
  SELECT coalesce(min(facts_version), 0) FROM pointer;

-- The index served only the start-up scan for older rows, which is gone: one index fewer for
-- every pointer write and bulk load. The background job walks the primary key instead.
DROP INDEX pointer_facts_version;
