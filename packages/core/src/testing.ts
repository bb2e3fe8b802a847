/**
 * `@nir/core/testing`: generators for property tests of the rules that protect data (issue 14),
 * shared by the unit tests and the end-to-end tests. Never imported by the registry itself.
 */
export { independentCheckDigit, NOT_NHS_NUMBERS, validNhsNumber } from './nhs-number-arbitraries.ts';
export { NOT_ODS_CODES, odsCodeShape } from './ods-arbitraries.ts';
