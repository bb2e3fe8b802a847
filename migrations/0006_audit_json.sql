-- Issue 6: the AuditEvent is kept as the JSON text it was written as (`json`), not `jsonb`.
-- Nothing queries inside it (the searchable facts are columns); it is only returned whole, and
-- building jsonb on every insert cost the durable audit a measurable share of search
-- throughput. `json` still refuses malformed JSON.
ALTER TABLE audit_event ALTER COLUMN resource TYPE json USING resource::json;
