/**
 * ODS organisation codes (mhd-balp.md §6.2). The Controller Catalogue is the real check;
 * this only refuses what can never be a code, so that junk never reaches a query.
 */

/** The FHIR identifier system for ODS organisation codes. */
export const ODS_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';

/** The shape of an ODS code, as a regular expression source (JSON Schema `pattern`). */
export const ODS_CODE_PATTERN = '^[A-Z0-9]{3,9}$';

const ODS_PATTERN = new RegExp(ODS_CODE_PATTERN);

/** True when `value` has the shape of an ODS organisation code (upper case, 3–9 alphanumerics). */
export function isOdsCodeShape(value: string): boolean {
  return ODS_PATTERN.test(value);
}
