/**
 * The retrieval reference of a pointer (R1, R14): an absolute `https` URL (DICOMweb included) or
 * an `ssp://` Spine Secure Proxy URL. It must carry no credentials and not the patient's NHS
 * number, since pointers are shared with every approved consumer and URLs end up in logs.
 */
import { fail, type RuleFailure } from './rule-failure.ts';

const ALLOWED_SCHEMES = new Set(['https:', 'ssp:']);

/** Query parameter names that carry credentials. */
const CREDENTIAL_PARAMETERS =
  /^(access[_-]?token|id[_-]?token|token|password|passwd|pwd|secret|client[_-]?secret|api[_-]?key|apikey|key|sig|signature|x-amz-signature|x-amz-credential|code)$/i;

/** Percent-decodes what can be decoded; a malformed escape is left as it is (never throws). */
function safeDecode(url: string): string {
  return url.replace(/(%[0-9a-f]{2})+/gi, (escapes) => {
    try {
      return decodeURIComponent(escapes);
    } catch {
      return escapes;
    }
  });
}

/** Checks one `attachment.url`; undefined when it is acceptable. */
export function checkRetrievalUrl(
  url: string,
  nhsNumber: string,
  expression: string,
): RuleFailure | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return fail(
      'NIR.url-absolute',
      expression,
      `Invalid retrieval URL: '${url}' must be an absolute https or ssp URL`,
    );
  }
  if (!ALLOWED_SCHEMES.has(parsed.protocol) || parsed.hostname === '') {
    return fail(
      'NIR.url-scheme',
      expression,
      `Invalid retrieval URL scheme '${parsed.protocol.replace(/:$/, '')}': the registry accepts https (including DICOMweb) and ssp URLs only`,
    );
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return fail('NIR.url-credentials', expression, 'Invalid retrieval URL: it must not contain credentials');
  }
  for (const name of parsed.searchParams.keys()) {
    if (CREDENTIAL_PARAMETERS.test(name)) {
      return fail(
        'NIR.url-credentials',
        expression,
        `Invalid retrieval URL: the query parameter '${name}' carries credentials, which a pointer must not hold`,
      );
    }
  }
  const digits = safeDecode(url).replace(/[\s+-]/g, '');
  if (nhsNumber !== '' && digits.includes(nhsNumber)) {
    return fail(
      'NIR.url-nhs-number',
      expression,
      "Invalid retrieval URL: it must not contain the patient's NHS number (R1); reference the record by an accession number or study UID",
    );
  }
  return undefined;
}
