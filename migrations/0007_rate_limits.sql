-- Issue 14, point 9: rate limits in the Controller Catalogue. Requests a minute per client
-- system and per organisation, and access tokens a minute per client system. NULL means the
-- registry's default (NIR_RATE_LIMIT_CLIENT, NIR_RATE_LIMIT_ORGANISATION, NIR_TOKEN_LIMIT;
-- NRL's gateway quota of 30,000 requests a minute per application by default).
ALTER TABLE organisation
  ADD COLUMN rate_limit_per_minute integer CHECK (rate_limit_per_minute > 0);
ALTER TABLE client_system
  ADD COLUMN rate_limit_per_minute integer CHECK (rate_limit_per_minute > 0),
  ADD COLUMN token_limit_per_minute integer CHECK (token_limit_per_minute > 0);
