/**
 * Discovery: `/.well-known/smart-configuration` (SMART App Launch 2, Backend Services) and
 * `/.well-known/jwks.json`, the registry's token-signing public keys.
 */
import { ADMIN_SCOPE, ROLE_SCOPES } from '@nir/core';
import type { RequestHandler } from 'express';
import { CLIENT_ASSERTION_ALGS } from '../auth/client-assertion.ts';
import type { KeyRing } from '../auth/key-ring.ts';

/** The SMART configuration document. */
export function smartConfiguration(publicUrl: string): RequestHandler {
  const body = {
    issuer: publicUrl,
    jwks_uri: `${publicUrl}/.well-known/jwks.json`,
    token_endpoint: `${publicUrl}/oauth2/token`,
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: [...CLIENT_ASSERTION_ALGS],
    grant_types_supported: ['client_credentials'],
    scopes_supported: [...new Set(Object.values(ROLE_SCOPES).flat()), ADMIN_SCOPE],
    capabilities: ['client-confidential-asymmetric', 'permission-v2'],
  };
  return (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=300');
    res.json(body);
  };
}

/** The JWKS of the registry's published signing keys (active and recently retired). */
export function jwksRoute(keys: KeyRing): RequestHandler {
  return (_req, res) => {
    res.setHeader('Cache-Control', 'public, max-age=60');
    res.json(keys.jwks());
  };
}
