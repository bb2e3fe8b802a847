/**
 * The end user behind a request, as the client system asserts it in IUA claims
 * (`extensions.ihe_iua`, IHE IUA; mhd-balp.md §4.1, §4.3). The client signs these claims in its
 * client assertion; the registry copies them into the access token it issues, so every request
 * carries a signed statement of who, in which role, and why.
 */
import { isPrintableText } from './printable-text.ts';
import type { Coding } from './purpose-of-use.ts';

/** The IUA claims the registry reads and keeps. */
export interface IuaClaims {
  /** The user's display name. */
  subject_name?: string;
  /** The user's identifier: for NHS staff the SDS user id (UUID) behind their smartcard. */
  subject_id?: string;
  /** The ODS code of the organisation the user acts for. */
  subject_organization_id?: string;
  subject_organization?: string;
  /** The user's role, e.g. an NHS national RBAC job role code or SDS role profile id. */
  subject_role?: Coding[];
  /** Why the data is accessed; direct care only (R5). */
  purpose_of_use?: Coding[];
}

/** An end user resolved from verified claims. */
export interface EndUser {
  id: string;
  name?: string;
  role: Coding[];
  purposeOfUse: Coding[];
  organisation?: string;
}

function codings(value: unknown): Coding[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const out: Coding[] = [];
  for (const item of value) {
    if (typeof item !== 'object' || item === null) return undefined;
    const { system, code, display } = item as Record<string, unknown>;
    if (typeof code !== 'string' || (system !== undefined && typeof system !== 'string')) return undefined;
    if (![code, system, display].every((v) => typeof v !== 'string' || isPrintableText(v))) return undefined;
    const coding: Coding = { code };
    if (typeof system === 'string') coding.system = system;
    if (typeof display === 'string') coding.display = display;
    out.push(coding);
  }
  return out;
}

/** A claim's text: 1-256 characters, printable (issue 14: no control character reaches the store). */
function optionalString(value: unknown): string | undefined {
  return typeof value === 'string' && value.length > 0 && value.length <= 256 && isPrintableText(value)
    ? value
    : undefined;
}

/**
 * Reads IUA claims from an untrusted object (a verified JWT's payload). Returns only the
 * well-formed claims; malformed ones are dropped, so a later check sees them as missing.
 */
export function readIuaClaims(raw: unknown): IuaClaims {
  if (typeof raw !== 'object' || raw === null) return {};
  const r = raw as Record<string, unknown>;
  const claims: IuaClaims = {};
  const name = optionalString(r.subject_name);
  if (name) claims.subject_name = name;
  const id = optionalString(r.subject_id);
  if (id) claims.subject_id = id;
  const org = optionalString(r.subject_organization_id);
  if (org) claims.subject_organization_id = org;
  const orgName = optionalString(r.subject_organization);
  if (orgName) claims.subject_organization = orgName;
  const role = codings(r.subject_role);
  if (role) claims.subject_role = role;
  const purpose = codings(r.purpose_of_use);
  if (purpose) claims.purpose_of_use = purpose;
  return claims;
}

/** The end user named by the claims, or undefined when identity or role is missing. */
export function endUserFromClaims(claims: IuaClaims): EndUser | undefined {
  if (!claims.subject_id || !claims.subject_role || claims.subject_role.length === 0) return undefined;
  const user: EndUser = {
    id: claims.subject_id,
    role: claims.subject_role,
    purposeOfUse: claims.purpose_of_use ?? [],
  };
  if (claims.subject_name) user.name = claims.subject_name;
  if (claims.subject_organization_id) user.organisation = claims.subject_organization_id;
  return user;
}
