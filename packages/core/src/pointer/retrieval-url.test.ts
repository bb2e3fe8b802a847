/**
 * The NIR retrieval URL rules (R1, R14): an absolute https (DICOMweb included) or ssp URL,
 * without credentials and without the patient's NHS number. Each refusal is 422
 * `UNPROCESSABLE_ENTITY` at the attachment's url.
 */
import { describe, expect, it } from 'vitest';
import { OperationOutcomeError } from '../outcomes.ts';
import type { RuleFailure } from './business-rules.ts';
import { checkRetrievalUrl } from './retrieval-url.ts';
import { publishedSchema, setPath, validPointer } from './test-fixtures.ts';
import { validatePointer } from './validate-pointer.ts';

const NHS = '9000000009';
const AT = 'content[0].attachment.url';
const NHS_NUMBER_MESSAGE =
  "Invalid retrieval URL: it must not contain the patient's NHS number (R1); reference the record by an accession number or study UID";

function refusal(rule: string, diagnostics: string, expression = AT): RuleFailure {
  return { rule, code: 'UNPROCESSABLE_ENTITY', expression, diagnostics };
}

describe('retrieval URL (R1, R14)', () => {
  it.each([
    ['an https report URL', 'https://ris.example.nhs.uk/reports/7c9e2a41-5b3d-4f08-a6e1-2d4c8b9f0e35'],
    [
      'an https URL with a port and a harmless query',
      'https://ris.example.nhs.uk:8443/reports?accession=RR8.123456789',
    ],
    [
      'a DICOMweb WADO-RS study metadata URL',
      'https://pacs.example.nhs.uk/dicomweb/studies/1.2.826.0.1.3680043.8.498.1/metadata',
    ],
    [
      'a DICOMweb WADO-RS rendered instance URL',
      'https://pacs.example.nhs.uk/dicomweb/studies/1.2.826.0.1.3680043.8.498.1/series/1.2.826.0.1.3680043.8.498.2/instances/1.2.826.0.1.3680043.8.498.3/rendered?accept=image%2Fjpeg',
    ],
    ['an ssp:// URL', 'ssp://ris.example.nhs.uk/reports/7c9e2a41'],
    [
      'an https URL with a different 10-digit number in the path',
      'https://ris.example.nhs.uk/accession/9000000017',
    ],
    [
      'an https URL with a different 10-digit number in the query',
      'https://ris.example.nhs.uk/r?accession=1234567890',
    ],
  ])('accepts %s', (_name, url) => {
    expect(checkRetrievalUrl(url, NHS, AT)).toBeUndefined();
  });

  it.each(['/reports/7c9e2a41', 'reports/7c9e2a41', '//ris.example.nhs.uk/reports/1', 'not a url', ''])(
    'refuses the relative or unparseable URL %j',
    (url) => {
      expect(checkRetrievalUrl(url, NHS, AT)).toEqual(
        refusal('NIR.url-absolute', `Invalid retrieval URL: '${url}' must be an absolute https or ssp URL`),
      );
    },
  );

  it.each([
    ['http', 'http://ris.example.nhs.uk/reports/1'],
    ['ftp', 'ftp://ris.example.nhs.uk/reports/1.pdf'],
    ['file', 'file:///var/reports/1.pdf'],
    ['data', 'data:application/pdf;base64,JVBERi0xLjQK'],
    ['javascript', 'javascript:alert(1)'],
    ['ssp', 'ssp:/reports/1'],
  ])('refuses the scheme %s (or a URL without host)', (scheme, url) => {
    expect(checkRetrievalUrl(url, NHS, AT)).toEqual(
      refusal(
        'NIR.url-scheme',
        `Invalid retrieval URL scheme '${scheme}': the registry accepts https (including DICOMweb) and ssp URLs only`,
      ),
    );
  });

  it.each([
    'https://ris:secret@ris.example.nhs.uk/reports/1',
    'https://ris@ris.example.nhs.uk/reports/1',
    'ssp://ris:secret@ris.example.nhs.uk/reports/1',
  ])('refuses userinfo in %s', (url) => {
    expect(checkRetrievalUrl(url, NHS, AT)).toEqual(
      refusal('NIR.url-credentials', 'Invalid retrieval URL: it must not contain credentials'),
    );
  });

  it.each([
    ['access_token', 'https://ris.example.nhs.uk/reports/1?access_token=abc'],
    ['Access-Token', 'https://ris.example.nhs.uk/reports/1?format=pdf&Access-Token=abc'],
    ['api_key', 'https://ris.example.nhs.uk/reports/1?api_key=abc'],
    ['sig', 'https://store.example.nhs.uk/reports/1.pdf?sv=2024&sig=abc'],
    ['X-Amz-Signature', 'https://bucket.s3.amazonaws.com/1.pdf?X-Amz-Signature=abc'],
  ])('refuses the credential query parameter %s', (name, url) => {
    expect(checkRetrievalUrl(url, NHS, AT)).toEqual(
      refusal(
        'NIR.url-credentials',
        `Invalid retrieval URL: the query parameter '${name}' carries credentials, which a pointer must not hold`,
      ),
    );
  });

  it.each([
    ['in the path', 'https://ris.example.nhs.uk/patients/9000000009/reports/1'],
    ['in the query', 'https://ris.example.nhs.uk/reports?nhsNumber=9000000009'],
    ['in an ssp URL', 'ssp://ris.example.nhs.uk/patients/9000000009'],
    ['with spaces', 'https://ris.example.nhs.uk/patients/900 000 0009/reports/1'],
    ['with encoded spaces', 'https://ris.example.nhs.uk/reports?nhs=900%20000%200009'],
    ['with hyphens', 'https://ris.example.nhs.uk/reports?nhs=900-000-0009'],
    ['percent-encoded', 'https://ris.example.nhs.uk/patients/%39000000009'],
  ])("refuses the patient's NHS number %s", (_name, url) => {
    expect(checkRetrievalUrl(url, NHS, AT)).toEqual(refusal('NIR.url-nhs-number', NHS_NUMBER_MESSAGE));
  });

  it('names the expression it is given', () => {
    expect(checkRetrievalUrl('http://x.example/1', NHS, 'content[3].attachment.url')?.expression).toBe(
      'content[3].attachment.url',
    );
  });

  it('checks no NHS number when the pointer has none', () => {
    expect(checkRetrievalUrl('https://ris.example.nhs.uk/9000000009', '', AT)).toBeUndefined();
  });

  it('checks the scheme before the credentials, and the credentials before the NHS number', () => {
    expect(checkRetrievalUrl('http://u:p@ris.example.nhs.uk/9000000009', NHS, AT)?.rule).toBe(
      'NIR.url-scheme',
    );
    expect(checkRetrievalUrl('https://u:p@ris.example.nhs.uk/9000000009', NHS, AT)?.rule).toBe(
      'NIR.url-credentials',
    );
  });

  // Regression (a bug this suite found, now fixed; retrieval-url.ts, `decodeURIComponent(...)` in the NHS number check): a percent-encoded
  // byte that is not UTF-8 (`%ff`, a truncated `%E0%A4%A`) makes decodeURIComponent throw
  // URIError, which escapes validatePointer as a raw error (a 500 for a client's URL).
  it.each(['https://pacs.example.nhs.uk/reports/a%ff', 'https://pacs.example.nhs.uk/reports/%E0%A4%A'])(
    'never throws on the percent-encoded URL %s',
    (url) => {
      expect(() => checkRetrievalUrl(url, NHS, AT)).not.toThrow();
    },
  );

  it('the whole validator answers a non-UTF-8 percent escape with a refusal or acceptance, not URIError', () => {
    const schema = publishedSchema();
    const pointer = validPointer();
    setPath(pointer, AT, 'https://pacs.example.nhs.uk/reports/a%ff');
    let thrown: unknown;
    try {
      validatePointer(schema, pointer, 'create');
    } catch (error) {
      thrown = error;
    }
    expect(thrown === undefined || thrown instanceof OperationOutcomeError).toBe(true);
  });

  // Regression (a bug this suite found, now fixed; retrieval-url.ts NHS number check): in a query string `+` encodes a space, so
  // `900+000+0009` is the NHS number spaced out, but only whitespace and hyphens are removed.
  it("refuses the patient's NHS number spaced with '+' in the query", () => {
    expect(checkRetrievalUrl('https://ris.example.nhs.uk/reports?nhs=900+000+0009', NHS, AT)?.rule).toBe(
      'NIR.url-nhs-number',
    );
  });
});
