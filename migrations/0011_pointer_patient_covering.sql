-- A patient's pointers kept together by design (issue 15, item 7; docs/SCALING.md §2
-- "Search cost on aged data").
--
-- Pointers reach the registry in time order across millions of patients, so on the heap a
-- patient's ten pointers sit on ten pages that no later write brings together (CLUSTER and
-- pg_repack restore the order only until the next write). A B-tree keeps its key order on every
-- insert: `pointer_patient_recent` now carries what the consumer search returns and what the
-- grant filters on, so the search, its count and its keyset page are one index-only scan of a
-- patient's adjacent leaf entries, whatever order the pointers were written in. This is our
-- equivalent of NRL's partition key: the NHS number leads, the entries of one patient are
-- contiguous, newest first.
--
--   type, category, custodian  the grant (R3), the type and category filters, the page's
--                              custodian (audit)
--   resource                   the DocumentReference as published, spliced into the Bundle;
--                              compressed in the index entry as in the heap (about 1.1 KB)
--
-- The token and date columns are not included: a search that filters on them reads the heap
-- for the patient's rows, as every search did before. The key is unchanged, so the keyset
-- paging and every plan that used the index before still do.
--
-- Cost: the index holds a second, compressed copy of each pointer (entries of about 1.3 KB,
-- 1.8 KB of index a pointer once leaves have split, in place of about 90 bytes), written with
-- each version; a B-tree entry may not exceed 2,704 bytes, so a pointer whose compressed JSON
-- exceeds about 2.5 KB fails to insert (SQLSTATE 54000, answered 413 PAYLOAD_TOO_LARGE).
DROP INDEX pointer_patient_recent;
CREATE INDEX pointer_patient_recent ON pointer (nhs_number, created_on DESC, id DESC)
  INCLUDE (type, category, custodian, resource);

-- An index-only scan skips the heap only for pages the visibility map marks all-visible. New
-- pointers arrive all the time, so each partition is vacuumed after every 10,000 inserted or
-- 1 % changed rows (not the default 20 % of the table, which at 150 million rows a partition
-- would leave a day's writes unvisited): VACUUM of an insert-only stretch only sets visibility
-- bits and is cheap. Only rows written since the last vacuum cost a heap visit, and those are
-- the recently written pages, the ones most likely cached. These settings act when autovacuum
-- is on (the production default).
ALTER TABLE pointer_p0 SET (autovacuum_vacuum_insert_threshold = 10000, autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_scale_factor = 0.01);
ALTER TABLE pointer_p1 SET (autovacuum_vacuum_insert_threshold = 10000, autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_scale_factor = 0.01);
ALTER TABLE pointer_p2 SET (autovacuum_vacuum_insert_threshold = 10000, autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_scale_factor = 0.01);
ALTER TABLE pointer_p3 SET (autovacuum_vacuum_insert_threshold = 10000, autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_scale_factor = 0.01);
ALTER TABLE pointer_p4 SET (autovacuum_vacuum_insert_threshold = 10000, autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_scale_factor = 0.01);
ALTER TABLE pointer_p5 SET (autovacuum_vacuum_insert_threshold = 10000, autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_scale_factor = 0.01);
ALTER TABLE pointer_p6 SET (autovacuum_vacuum_insert_threshold = 10000, autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_scale_factor = 0.01);
ALTER TABLE pointer_p7 SET (autovacuum_vacuum_insert_threshold = 10000, autovacuum_vacuum_insert_scale_factor = 0, autovacuum_vacuum_scale_factor = 0.01);
