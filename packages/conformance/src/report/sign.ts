/**
 * The report's signature: a compact JWS (RFC 7515) whose payload is the report's JSON exactly
 * as written, signed with the registry's active signing key (ES256), so a service owner can
 * check with the registry's JWKS that the report came from the sandbox unaltered.
 */
import { CompactSign, compactVerify, createLocalJWKSet, importJWK, type JSONWebKeySet, type JWK } from 'jose';

/** The JWS `typ` of a signed conformance report. */
export const REPORT_JWS_TYPE = 'nir-conformance-report+jws';

/** Signs the exact bytes of `reportJson` with `privateJwk` (which names its `kid` and `alg`). */
export async function signReport(reportJson: string, privateJwk: JWK): Promise<string> {
  const alg = privateJwk.alg ?? 'ES256';
  if (!privateJwk.kid) throw new Error('the signing key has no kid');
  const key = await importJWK(privateJwk, alg);
  return new CompactSign(new TextEncoder().encode(reportJson))
    .setProtectedHeader({ alg, kid: privateJwk.kid, typ: REPORT_JWS_TYPE })
    .sign(key);
}

/** What a signature check found. */
export interface ReportSignatureCheck {
  kid: string;
  /** The signed report JSON. */
  payload: string;
  /** True when `reportJson` was given and equals the signed payload byte for byte. */
  matchesFile: boolean | undefined;
}

/**
 * Verifies `jws` against the registry's `jwks`; with `reportJson`, also that the file is the
 * one signed. Throws when the signature does not verify.
 */
export async function verifyReportSignature(
  jws: string,
  jwks: JSONWebKeySet,
  reportJson?: string,
): Promise<ReportSignatureCheck> {
  const { payload, protectedHeader } = await compactVerify(jws.trim(), createLocalJWKSet(jwks), {
    algorithms: ['ES256', 'ES384', 'RS256', 'RS384', 'RS512', 'PS256'],
  });
  if (protectedHeader.typ !== REPORT_JWS_TYPE)
    throw new Error(`not a conformance report JWS (typ ${protectedHeader.typ})`);
  const text = new TextDecoder().decode(payload);
  return {
    kid: protectedHeader.kid ?? '',
    payload: text,
    matchesFile: reportJson === undefined ? undefined : reportJson === text,
  };
}
