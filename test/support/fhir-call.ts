/**
 * One FHIR call of an end-to-end test: the clinical headers of a caller, a JSON body when
 * given, and the reply parsed (empty body → `{}`), so tests read status, headers and body.
 */
import { clinicalHeaders, type TestRegistry } from './harness.ts';

/** The parts of a FHIR reply body the tests read. */
export interface FhirBody {
  resourceType?: string;
  id?: string;
  total?: number;
  type?: string;
  entry?: { resource?: { id?: string } }[];
  meta?: { versionId?: string };
  issue?: {
    code?: string;
    diagnostics?: string;
    expression?: string[];
    details?: { coding?: { code?: string }[] };
  }[];
  [key: string]: unknown;
}

/** A parsed reply. */
export interface FhirReply {
  status: number;
  headers: Headers;
  body: FhirBody;
  text: string;
}

/** Who calls, and anything extra. */
export interface FhirCaller {
  token: string;
  ods: string;
  headers?: Record<string, string>;
}

/** Sends `method path` as `caller`; a string body is sent as it is, anything else as JSON. */
export async function fhirCall(
  t: TestRegistry,
  method: string,
  pathname: string,
  caller: FhirCaller,
  body?: unknown,
): Promise<FhirReply> {
  const response = await t.fetch(pathname, {
    method,
    headers: {
      ...clinicalHeaders(caller.token, caller.ods),
      ...(body === undefined ? {} : { 'content-type': 'application/fhir+json' }),
      ...caller.headers,
    },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text ? (JSON.parse(text) as FhirBody) : {},
    text,
  };
}
