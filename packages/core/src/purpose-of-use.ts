/**
 * Purpose of use (R5; mhd-balp.md §4.4). The registry serves direct care only: a request
 * that does not declare one of these purposes is refused.
 */

/** HL7 v3 ActReason, the code system of PurposeOfUse. */
export const ACT_REASON_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-ActReason';

/** The direct-care allow-list. BTG is refused: the registry has no consent restriction to break. */
export const DIRECT_CARE_PURPOSES = ['TREAT', 'ETREAT', 'ERTREAT', 'COC'] as const;

/** A FHIR Coding as carried in IUA claims. */
export interface Coding {
  system?: string;
  code?: string;
  display?: string;
}

/**
 * True when the declared purposes include at least one direct-care code and nothing else.
 * A declaration mixing direct care with another purpose is refused too: the request must be
 * for direct care only.
 */
export function isDirectCareOnly(purposes: readonly Coding[] | undefined): boolean {
  if (!purposes || purposes.length === 0) return false;
  return purposes.every(
    (p) =>
      p.system === ACT_REASON_SYSTEM && (DIRECT_CARE_PURPOSES as readonly string[]).includes(p.code ?? ''),
  );
}
