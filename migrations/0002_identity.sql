-- R18: signed-JWT client credentials.

-- Each client assertion's jti is single use. Kept in the database, so a replay is refused
-- after a restart and on any other server instance; rows go once the assertion has expired.
CREATE TABLE client_assertion_jti (
  client_id   text NOT NULL,
  jti         text NOT NULL,
  expires_at  timestamptz NOT NULL,
  PRIMARY KEY (client_id, jti)
);
CREATE INDEX client_assertion_jti_expiry ON client_assertion_jti (expires_at);

-- The registry's own access-token signing keys. One is active; retired keys stay published
-- until every token they signed has expired, so rotation needs no downtime.
CREATE TABLE signing_key (
  kid          text PRIMARY KEY,
  alg          text NOT NULL,
  public_jwk   jsonb NOT NULL,
  private_jwk  jsonb NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  retired_at   timestamptz
);
CREATE UNIQUE INDEX signing_key_one_active ON signing_key ((true)) WHERE retired_at IS NULL;
