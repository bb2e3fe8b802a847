-- R3, R6, R19: the Controller Catalogue. Data, not code: organisations, the client systems
-- that act for them, and the grants that say what each organisation may do per role.

CREATE TABLE organisation (
  ods_code    text PRIMARY KEY CHECK (ods_code ~ '^[A-Z0-9]{3,9}$'),
  name        text NOT NULL CHECK (name <> ''),
  status      text NOT NULL CHECK (status IN ('active', 'suspended', 'terminated')),
  version     integer NOT NULL DEFAULT 1,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE client_system (
  client_id      text PRIMARY KEY CHECK (client_id ~ '^[A-Za-z0-9._-]{3,64}$'),
  name           text NOT NULL CHECK (name <> ''),
  status         text NOT NULL CHECK (status IN ('active', 'disabled')),
  jwks           jsonb NOT NULL,
  organisations  text[] NOT NULL DEFAULT '{}',
  -- Least privilege (R18): the roles this system may exercise for its organisations, e.g. a
  -- PACS publishes (producer) while the same trust's IG tool reads audit (audit).
  roles          text[] NOT NULL DEFAULT '{}' CHECK (roles <@ ARRAY['producer', 'consumer', 'audit']),
  is_admin       boolean NOT NULL DEFAULT false,
  is_demo        boolean NOT NULL DEFAULT false,
  version        integer NOT NULL DEFAULT 1,
  updated_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE catalogue_grant (
  grant_id         text PRIMARY KEY,
  ods_code         text NOT NULL REFERENCES organisation (ods_code),
  role             text NOT NULL CHECK (role IN ('producer', 'consumer', 'audit')),
  pointer_types    text[] NOT NULL DEFAULT '{}',
  interactions     text[] NOT NULL DEFAULT '{}',
  access_controls  text[] NOT NULL DEFAULT '{}',
  version          integer NOT NULL DEFAULT 1,
  updated_at       timestamptz NOT NULL DEFAULT now(),
  UNIQUE (ods_code, role)
);

-- R19: every change is versioned and kept: who changed what, when, before and after.
CREATE TABLE catalogue_change (
  change_id   bigserial PRIMARY KEY,
  changed_at  timestamptz NOT NULL DEFAULT now(),
  actor       text NOT NULL,
  entity      text NOT NULL CHECK (entity IN ('organisation', 'client', 'grant')),
  entity_key  text NOT NULL,
  action      text NOT NULL CHECK (action IN ('create', 'update', 'delete')),
  before      jsonb,
  after       jsonb
);
CREATE INDEX catalogue_change_entity ON catalogue_change (entity, entity_key, change_id);

-- The change log is append-only: no update or delete, whoever asks.
CREATE FUNCTION catalogue_change_is_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'catalogue_change is append-only';
END;
$$;
CREATE TRIGGER catalogue_change_append_only
  BEFORE UPDATE OR DELETE ON catalogue_change
  FOR EACH ROW EXECUTE FUNCTION catalogue_change_is_append_only();
