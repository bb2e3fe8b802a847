-- Issue 19: the key that places AuditEvents when the registry runs on Citus (migrations/citus:
-- audit_event is distributed by it). One value for every event written by one statement: the
-- first event's id, a UUIDv7, so that a group-committed batch (events of many patients, R7) is
-- one shard on one worker, and batches spread evenly over the shards. Distributing by patient
-- made every batch touch as many shards as it held patients, with a two-phase commit across the
-- workers: on the two-worker loopback topology the consumer search fell to 40 req/s (docs/
-- SCALING.md §5). Written by every backend (one code path); nothing reads it. Rows older than
-- this migration keep NULL on PostgreSQL and PGlite; the Citus step fills them in.
ALTER TABLE audit_event ADD COLUMN shard_key text;
