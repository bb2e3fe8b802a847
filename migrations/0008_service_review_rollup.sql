-- R17: the monthly service review's rollup, maintained as audit events are written (in the same
-- statement as their INSERT: group commit or a write's own transaction), so reports and the
-- dashboard never scan audit_event (up to a billion rows a year). Every dimension is bounded:
-- no NHS number, id or free text. A full scan of audit_event recomputes both tables exactly
-- (see packages/store/src/audit-rollup.test.ts).
--
-- shard: a write's own transaction holds its rollup rows locked until it commits; writes of the
-- same organisation would queue behind each other's commit, so they spread over shards 1-15 (the
-- group-commit writer, a single writer, uses shard 0). Readers sum the shards.
--
-- latency: a fixed log-scale histogram (32 buckets, bucket i counts latencies ≤ 2^(i/2) ms, the
-- last everything slower), so percentiles of any sum of rows are read from the summed buckets.
CREATE TABLE audit_rollup (
  day          date NOT NULL,
  shard        smallint NOT NULL DEFAULT 0,
  ods          text NOT NULL,   -- the verified requesting organisation, '-' when none
  base         text NOT NULL,   -- producer | consumer | audit | token | admin | other
  interaction  text NOT NULL,   -- the event's subtype code
  action       text NOT NULL,
  outcome      text NOT NULL,
  code         text NOT NULL,   -- registry error code of a failure, '' for a success
  events       bigint NOT NULL,
  disclosed    bigint NOT NULL, -- events naming a custodian (a search that found something)
  timed        bigint NOT NULL, -- events with a latency
  latency      bigint[] NOT NULL,
  PRIMARY KEY (day, ods, base, interaction, action, outcome, code, shard)
);
CREATE INDEX audit_rollup_ods ON audit_rollup (ods, day);

-- R8 for the service review: who accessed an organisation's pointers, by accessing organisation.
CREATE TABLE audit_access_rollup (
  day          date NOT NULL,
  shard        smallint NOT NULL DEFAULT 0,
  custodian    text NOT NULL,
  ods          text NOT NULL,   -- the accessing organisation, '-' when none was verified
  base         text NOT NULL,
  interaction  text NOT NULL,
  outcome      text NOT NULL,
  events       bigint NOT NULL,
  PRIMARY KEY (custodian, day, ods, base, interaction, outcome, shard)
);

-- The rollup of the events already stored (none in a fresh database; an upgraded registry's
-- history). Latencies are unknown for events written before 0008 (no period): timed = 0.
INSERT INTO audit_rollup (day, ods, base, interaction, action, outcome, code, events, disclosed, timed, latency)
SELECT (recorded AT TIME ZONE 'UTC')::date, coalesce(requester_ods, '-'),
       coalesce(substring(resource->'source'->>'site' from '/(producer|consumer|audit)/FHIR/R4$'),
                substring(resource->'source'->>'site' from '/oauth2/(token)$'),
                substring(resource->'source'->>'site' from '/(admin)$'), 'other'),
       subtype, action, outcome,
       CASE WHEN outcome = '0' THEN ''
            ELSE coalesce(substring(resource->>'outcomeDesc' from '^([A-Za-z][A-Za-z0-9_ ]{0,47})(?::|$)'), 'OTHER') END,
       count(*), count(*) FILTER (WHERE cardinality(custodian_ods) > 0), 0,
       array_fill(0::bigint, ARRAY[32])
FROM audit_event GROUP BY 1, 2, 3, 4, 5, 6, 7;

INSERT INTO audit_access_rollup (day, custodian, ods, base, interaction, outcome, events)
SELECT (recorded AT TIME ZONE 'UTC')::date, c.custodian, coalesce(requester_ods, '-'),
       coalesce(substring(resource->'source'->>'site' from '/(producer|consumer|audit)/FHIR/R4$'),
                substring(resource->'source'->>'site' from '/oauth2/(token)$'),
                substring(resource->'source'->>'site' from '/(admin)$'), 'other'),
       subtype, outcome, count(*)
FROM audit_event, unnest(custodian_ods) AS c(custodian) GROUP BY 1, 2, 3, 4, 5, 6;
