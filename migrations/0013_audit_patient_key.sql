-- Issue 19: the key that places an AuditEvent beside its patient's pointers when the registry
-- runs on Citus (migrations/citus: audit_event is distributed by it, colocated with `pointer`).
-- The patient's NHS number when the event names one (every producer and consumer event does:
-- a subject access request, R9, is then one shard), else the event's own id, so the events of
-- no patient (token requests, the admin and audit APIs) spread evenly instead of piling on one
-- shard. Written by every backend from now on (one code path); nothing else reads it. Rows
-- older than this migration keep NULL on PostgreSQL and PGlite; the Citus step fills them in.
ALTER TABLE audit_event ADD COLUMN patient_key text;
