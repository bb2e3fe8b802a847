/**
 * Builds the signed-JWT client assertion a supplier system sends to `POST /oauth2/token`
 * (SMART Backend Services; NHS England signed JWT), with the end user's IUA claims. This is
 * what a real client does; the CLI and the tests use it as a reference client.
 */
import { randomUUID } from 'node:crypto';
import { ACT_REASON_SYSTEM, type IuaClaims } from '@nir/core';
import { importJWK, type JWK, SignJWT } from 'jose';

/** What an assertion says. */
export interface AssertionInput {
  clientId: string;
  /** The client's private key as a JWK with `kid` and `alg`. */
  privateJwk: JWK;
  /** The registry's token endpoint URL (the `aud`). */
  tokenUrl: string;
  iua?: IuaClaims;
  /** Seconds until `exp` (at most 300 is accepted). */
  lifetimeSeconds?: number;
  jti?: string;
}

/** Signs a client assertion with the client's private key. */
export async function createClientAssertion(input: AssertionInput): Promise<string> {
  const alg = input.privateJwk.alg;
  const kid = input.privateJwk.kid;
  if (!alg || !kid) throw new Error('The private JWK needs alg and kid');
  const key = await importJWK(input.privateJwk, alg);
  const payload = input.iua ? { extensions: { ihe_iua: input.iua } } : {};
  return new SignJWT(payload)
    .setProtectedHeader({ alg, kid, typ: 'JWT' })
    .setIssuer(input.clientId)
    .setSubject(input.clientId)
    .setAudience(input.tokenUrl)
    .setJti(input.jti ?? randomUUID())
    .setIssuedAt()
    .setExpirationTime(Math.floor(Date.now() / 1000) + (input.lifetimeSeconds ?? 240))
    .sign(key);
}

/** IUA claims for a demo clinician acting for `odsCode` for direct care. */
export function demoUserClaims(odsCode: string, purpose = 'TREAT'): IuaClaims {
  return {
    subject_id: '555000000001',
    subject_name: 'DEMO Dr Alex Example',
    subject_organization_id: odsCode,
    subject_role: [
      {
        system: 'https://fhir.nhs.uk/CodeSystem/NHSDigital-SDS-JobRoleCode',
        code: 'R8000',
        display: 'Clinical Practitioner Access Role',
      },
    ],
    purpose_of_use: [{ system: ACT_REASON_SYSTEM, code: purpose }],
  };
}
