/**
 * fast-check arbitraries for the fuzz suite (issue 14): every route of the registry with its
 * path segments, query strings, headers and bodies fuzzed, as an attacker would send them over
 * HTTP. Values mix the dangerous (control characters, malformed percent-encoding, dates at the
 * edges of 0001-9999, numbers past bigint, Content-Encodings that do not decode, more than 1,000
 * form parameters, deep JSON) with valid ones, so that requests also get past the first check.
 */
import { gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { validPointer } from './pointers.ts';

/** Who may call a route: its role picks the token that is "valid" for it. */
export type Caller = 'consumer' | 'producer' | 'audit' | 'admin' | 'none';

/** A route: method, path template (`{id}` segments are fuzzed) and the caller it expects. */
export interface Route {
  method: string;
  path: string;
  caller: Caller;
  /** Whether the audit trail records it (R7): FHIR bases bar discovery, token, admin. */
  audited: boolean;
  /** Body kind when the route takes one. */
  body?: 'json' | 'form' | 'search';
}

const C = '/consumer/FHIR/R4';
const P = '/producer/FHIR/R4';
const A = '/audit/FHIR/R4';

/** Every route the registry serves, plus unknown ones. */
export const ROUTES: Route[] = [
  { method: 'GET', path: `${C}/DocumentReference`, caller: 'consumer', audited: true },
  {
    method: 'POST',
    path: `${C}/DocumentReference/_search`,
    caller: 'consumer',
    audited: true,
    body: 'search',
  },
  { method: 'GET', path: `${C}/DocumentReference/{id}`, caller: 'consumer', audited: true },
  { method: 'GET', path: `${C}/metadata`, caller: 'none', audited: false },
  { method: 'GET', path: `${C}/_status`, caller: 'none', audited: false },
  { method: 'GET', path: `${C}/.well-known/smart-configuration`, caller: 'none', audited: false },
  { method: 'GET', path: `${P}/DocumentReference`, caller: 'producer', audited: true },
  { method: 'POST', path: `${P}/DocumentReference`, caller: 'producer', audited: true, body: 'json' },
  { method: 'PUT', path: `${P}/DocumentReference`, caller: 'producer', audited: true, body: 'json' },
  {
    method: 'POST',
    path: `${P}/DocumentReference/_search`,
    caller: 'producer',
    audited: true,
    body: 'search',
  },
  {
    method: 'POST',
    path: `${P}/DocumentReference/$validate`,
    caller: 'producer',
    audited: true,
    body: 'json',
  },
  { method: 'GET', path: `${P}/DocumentReference/{id}`, caller: 'producer', audited: true },
  { method: 'PUT', path: `${P}/DocumentReference/{id}`, caller: 'producer', audited: true, body: 'json' },
  { method: 'DELETE', path: `${P}/DocumentReference/{id}`, caller: 'producer', audited: true },
  { method: 'GET', path: `${P}/DocumentReference/{id}/_history`, caller: 'producer', audited: true },
  { method: 'POST', path: `${P}/`, caller: 'producer', audited: true, body: 'json' },
  { method: 'GET', path: `${P}/StructureDefinition`, caller: 'none', audited: true },
  { method: 'GET', path: `${P}/StructureDefinition/{id}`, caller: 'none', audited: true },
  { method: 'GET', path: `${A}/AuditEvent`, caller: 'audit', audited: true },
  { method: 'GET', path: `${A}/AuditEvent/{id}`, caller: 'audit', audited: true },
  { method: 'GET', path: `${A}/Patient/$audit`, caller: 'audit', audited: true },
  { method: 'GET', path: `${A}/$export`, caller: 'audit', audited: true },
  { method: 'GET', path: `${A}/$export-status/{id}`, caller: 'audit', audited: true },
  { method: 'DELETE', path: `${A}/$export-status/{id}`, caller: 'audit', audited: true },
  { method: 'GET', path: `${A}/$export-file/{id}/{id}`, caller: 'audit', audited: true },
  { method: 'POST', path: '/oauth2/token', caller: 'none', audited: true, body: 'form' },
  { method: 'GET', path: '/admin/organisations', caller: 'admin', audited: true },
  { method: 'GET', path: '/admin/organisations/{id}', caller: 'admin', audited: true },
  { method: 'PUT', path: '/admin/organisations/{id}', caller: 'admin', audited: true, body: 'json' },
  { method: 'GET', path: '/admin/clients/{id}', caller: 'admin', audited: true },
  { method: 'PUT', path: '/admin/clients/{id}', caller: 'admin', audited: true, body: 'json' },
  { method: 'GET', path: '/admin/grants', caller: 'admin', audited: true },
  { method: 'GET', path: '/admin/grants/{id}/{id}', caller: 'admin', audited: true },
  { method: 'PUT', path: '/admin/grants/{id}/{id}', caller: 'admin', audited: true, body: 'json' },
  { method: 'GET', path: '/admin/changes', caller: 'admin', audited: true },
  { method: 'GET', path: '/_status', caller: 'none', audited: false },
  { method: 'GET', path: '/.well-known/jwks.json', caller: 'none', audited: false },
  { method: 'GET', path: '/{id}', caller: 'none', audited: false },
  { method: 'GET', path: `${C}/{id}/{id}`, caller: 'consumer', audited: true },
];

const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD'];

/** Pieces of text that break naive handling, already as they go on the wire (percent-encoded). */
const WIRE_PIECES = [
  '%00',
  '%01',
  '%1F',
  '%7F',
  '%0A',
  '%0D',
  '%09',
  '%',
  '%z',
  '%zz',
  '%C0%AF',
  '%ED%A0%80',
  '%F0%9F',
  '%FF',
  '%E2%82',
  '%%',
  '%2',
  '%u0041',
  '%2F',
  '%3F',
  '%23',
  '%2B',
  '%7C',
  '%2C',
  '..',
  '.',
  "'",
  '"',
  '%22%3B--',
  '%E2%80%AE',
  '%EF%BB%BF',
  '%F0%9F%98%80',
  '~',
  '!',
  '*',
  '(',
  ')',
  ':',
  '@',
  '$',
  '+',
];

const wirePiece = fc.constantFrom(...WIRE_PIECES);
const plain = fc.stringMatching(/^[A-Za-z0-9._-]{0,12}$/);
/** Any string, percent-encoded as a careful client would (lone surrogates made well-formed). */
const encoded = (max: number) =>
  fc.string({ maxLength: max, unit: 'binary' }).map((s) => encodeURIComponent(s.toWellFormed()));

/** Text as it goes on the wire: valid, encoded Unicode, or broken pieces. */
export const wireText = fc.oneof(
  {
    weight: 3,
    arbitrary: fc
      .array(fc.oneof(plain, wirePiece, encoded(6)), { minLength: 1, maxLength: 6 })
      .map((p) => p.join('')),
  },
  { weight: 1, arbitrary: encoded(40) },
  { weight: 1, arbitrary: fc.constantFrom('', 'a'.repeat(300), '9'.repeat(40)) },
);

/** Values parameters take: dates at the edges, numbers past what the database holds, tokens. */
const dateValue = fc
  .tuple(
    fc.constantFrom('', 'eq', 'ne', 'gt', 'lt', 'ge', 'le', 'sa', 'eb', 'ap', 'xx'),
    fc.constantFrom(
      '0001',
      '9999',
      '9999-12-31',
      '9999-12-31T23:59:59.999Z',
      '0001-01-01T00:00:00%2B14:00',
      '2026-11-28',
      '2026-13-01',
      '99999',
      '2026-02-30',
      '2026-11-28T25:61:61Z',
      '2026-11-28T10:00',
      '-0001',
      '0000',
      '2026-11-28T10:00:00-14:59',
      '2026-11-28T10:00:00.123456789Z',
    ),
  )
  .map(([p, d]) => `${p}${d}`);
const numberish = fc.constantFrom(
  '1e300',
  '-1',
  '0',
  '1',
  '1.5',
  'NaN',
  'Infinity',
  '9223372036854775808',
  '00012',
  '0x10',
  '1,2',
  '',
  '100000',
  '-0',
  '1e-7',
);
const tokenish = fc.constantFrom(
  'https://fhir.nhs.uk/Id/nhs-number|9000000009',
  'https://fhir.nhs.uk/Id/nhs-number|9434765919',
  'https://fhir.nhs.uk/Id/nhs-number|90000000091',
  'https://fhir.nhs.uk/Id/ods-organization-code|RR8',
  'https://nicip.nhs.uk|MAULR',
  'http://snomed.info/sct|4201000179104',
  'https://fhir.nhs.uk/Id/nir-client-id|demo-consumer',
  '9000000009',
  '|',
  '||',
  'a|b|c',
  'current',
  'count',
  'date',
  '-date',
  'AuditEvent',
  'application/fhir+ndjson',
  'json',
  'xml',
  'RR8',
  'RWY',
  'consumer',
);
const value = fc.oneof(dateValue, numberish, tokenish, wireText);
const KEYS = [
  'subject:identifier',
  'subject.identifier',
  'patient:identifier',
  'patient.identifier',
  'custodian:identifier',
  'type',
  'category',
  '_id',
  'setting',
  'facility',
  'event',
  'format',
  'security-label',
  'related',
  'status',
  'date',
  'creation',
  'period',
  '_lastUpdated',
  '_count',
  '_summary',
  '_format',
  '_elements',
  'page_token',
  '_cursor',
  'entity:identifier',
  'agent:identifier',
  'subtype',
  'outcome',
  '_sort',
  '_since',
  '_type',
  '_outputFormat',
  'key',
  'after',
  'limit',
  'ods',
  'entity',
  'url',
  'identifier',
  'grant_type',
  'client_assertion_type',
  'client_assertion',
  'scope',
];
const key = fc.oneof({ weight: 4, arbitrary: fc.constantFrom(...KEYS) }, { weight: 1, arbitrary: wireText });

/** A query string (without `?`): the patient often present, so searches get past the first check. */
export const queryString = fc
  .tuple(fc.boolean(), fc.array(fc.tuple(key, value), { maxLength: 6 }))
  .map(([withPatient, pairs]) =>
    [
      ...(withPatient ? ['subject:identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009'] : []),
      ...pairs.map(([k, v]) => `${k}=${v}`),
    ].join('&'),
  );

/** Header text as node:http lets a client send it: tab, printable ASCII and obs-text. */
const headerChar = fc
  .oneof(
    { weight: 8, arbitrary: fc.integer({ min: 0x20, max: 0x7e }) },
    { weight: 1, arbitrary: fc.integer({ min: 0x80, max: 0xff }) },
    { weight: 1, arbitrary: fc.constant(0x09) },
  )
  .map((code) => String.fromCharCode(code));
export const headerText = fc.string({ unit: headerChar, maxLength: 60 }).map((s) => s.trim());

/** A body and the content type it is sent with (undefined: no body). */
export interface FuzzBody {
  contentType?: string;
  contentEncoding?: string;
  bytes?: Buffer;
}

function deepJson(depth: number): string {
  return `${'['.repeat(depth)}${']'.repeat(depth)}`;
}

const jsonText = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc.constant(JSON.stringify(validPointer())),
  fc
    .tuple(
      fc.constantFrom(
        'id',
        'status',
        'subject',
        'type',
        'content',
        'custodian',
        'name',
        'relatesTo',
        'context',
      ),
      fc.jsonValue(),
    )
    .map(([field, v]) => JSON.stringify({ ...validPointer(), [field]: v })),
  fc
    .string({ maxLength: 20 })
    .map((s) => JSON.stringify({ ...validPointer(), id: `RR8-${s}`, description: `a\u0000${s}` })),
  fc.constant(
    JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry: [{ resource: validPointer() }] }),
  ),
  fc.constant(JSON.stringify({ name: 'Fuzz\u0000Trust', status: 'active' })),
  fc.constantFrom(deepJson(20_000), '{"a":', '', 'null', '[]', '"\\ud800"', '{"\\u0000":1}'),
);
const formText = fc.oneof(
  queryString,
  fc.integer({ min: 990, max: 1100 }).map((n) => Array.from({ length: n }, (_, i) => `p${i}=${i}`).join('&')),
);

/** A body for `kind` (or a stray one for a route that takes none). */
export function bodyFor(kind: Route['body']): fc.Arbitrary<FuzzBody> {
  const text = kind === 'form' ? formText : kind === 'search' ? fc.oneof(formText, jsonText) : jsonText;
  const type = fc.oneof(
    { weight: 6, arbitrary: fc.constant(undefined) },
    {
      weight: 2,
      arbitrary: fc.constantFrom(
        'application/fhir+json',
        'application/json',
        'application/x-www-form-urlencoded',
        'text/plain',
        'application/json; charset=latin1',
        'application/json; charset=utf-16',
        'multipart/form-data',
        'application/fhir+json; fhirVersion=4.0',
      ),
    },
    { weight: 1, arbitrary: headerText },
  );
  const encoding = fc.oneof(
    { weight: 8, arbitrary: fc.constant(undefined) },
    {
      weight: 2,
      arbitrary: fc.constantFrom('gzip', 'br', 'deflate', 'identity', 'compress', 'zstd', 'GZIP'),
    },
    { weight: 1, arbitrary: headerText },
  );
  const natural =
    kind === 'form' || kind === undefined ? 'application/x-www-form-urlencoded' : 'application/fhir+json';
  return fc.oneof(
    { weight: 1, arbitrary: fc.constant<FuzzBody>({}) },
    {
      weight: 6,
      arbitrary: fc
        .tuple(text, type, encoding, fc.boolean())
        .map(([body, contentType, contentEncoding, zip]): FuzzBody => {
          const raw = Buffer.from(body, 'utf8');
          const bytes = contentEncoding === 'gzip' && zip ? gzipSync(raw) : raw;
          return {
            contentType:
              contentType ?? (kind === 'search' && body.startsWith('{') ? 'application/json' : natural),
            ...(contentEncoding !== undefined ? { contentEncoding } : {}),
            bytes,
          };
        }),
    },
    {
      weight: 1,
      arbitrary: fc.tuple(fc.uint8Array({ maxLength: 200 }), type).map(
        ([bytes, contentType]): FuzzBody => ({
          contentType: contentType ?? natural,
          bytes: Buffer.from(bytes),
        }),
      ),
    },
  );
}

/** One fuzzed request before the caller's credentials are chosen. */
export interface FuzzRequest {
  route: Route;
  method: string;
  path: string;
  query: string;
  body: FuzzBody;
  auth: 'valid' | 'other-role' | 'lowercase' | 'garbage' | 'tampered' | 'none' | string;
  requestId: 'fresh' | 'none' | string;
  ods: 'right' | 'other' | 'none' | string;
  extra: Record<string, string>;
}

const authChoice = fc.oneof(
  { weight: 6, arbitrary: fc.constant('valid') },
  { weight: 4, arbitrary: fc.constantFrom('other-role', 'lowercase', 'garbage', 'tampered', 'none') },
  { weight: 1, arbitrary: headerText.map((h) => `raw:${h}`) },
);
const requestIdChoice = fc.oneof(
  { weight: 9, arbitrary: fc.constant('fresh') },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.constant('none'),
      headerText.map((h) => `raw:${h}`),
    ),
  },
);
const odsChoice = fc.oneof(
  { weight: 8, arbitrary: fc.constant('right') },
  {
    weight: 2,
    arbitrary: fc.oneof(
      fc.constantFrom('other', 'none'),
      headerText.map((h) => `raw:${h}`),
    ),
  },
);
const EXTRA_HEADERS = [
  'accept',
  'if-none-match',
  'if-match',
  'if-modified-since',
  'prefer',
  'x-correlation-id',
  'range',
  'x-forwarded-for',
  'origin',
  'accept-encoding',
  'nhsd-end-user-organisation-ods',
];
const extraValue = fc.oneof(
  fc.constantFrom(
    '*',
    'W/"1"',
    '"1"',
    'respond-async',
    'handling=lenient',
    'handling=strict',
    'application/fhir+json',
    'application/fhir+xml',
    '*/*;q=0',
    'application/fhir+ndjson',
    'bytes=0-1',
    'Wed, 21 Oct 2015 07:28:00 GMT',
    'https://evil.example',
  ),
  headerText,
);
const extraHeaders = fc
  .array(fc.tuple(fc.constantFrom(...EXTRA_HEADERS), extraValue), { maxLength: 3 })
  .map((pairs) => Object.fromEntries(pairs));

/** A fuzzed path for a route: each `{id}` a known id, a plain one or broken wire text. */
function pathOf(template: string, ids: readonly string[]): fc.Arbitrary<string> {
  const parts = template.split('{id}');
  const segment = fc.oneof(
    { weight: 2, arbitrary: fc.constantFrom(...ids) },
    { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9.-]{1,64}$/) },
    { weight: 3, arbitrary: wireText.filter((s) => s !== '' && !s.includes('/')) },
  );
  return fc
    .array(segment, { minLength: parts.length - 1, maxLength: parts.length - 1 })
    .map((segments) => parts.reduce((path, part, i) => `${path}${part}${segments[i - 1] ?? ''}`));
}

/** The body a well-behaved client sends to a route (the fuzz then varies one part only). */
function cleanBody(kind: Route['body']): FuzzBody {
  const text =
    kind === 'json'
      ? JSON.stringify(validPointer())
      : kind === 'search'
        ? 'subject:identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009'
        : kind === 'form'
          ? 'grant_type=client_credentials&client_assertion_type=urn:ietf:params:oauth:client-assertion-type:jwt-bearer'
          : undefined;
  if (text === undefined) return {};
  const contentType = kind === 'json' ? 'application/fhir+json' : 'application/x-www-form-urlencoded';
  return { contentType, bytes: Buffer.from(text, 'utf8') };
}

/** Which part of a request is fuzzed: one at a time (so the rest gets past the checks), or all. */
const FOCUS = ['path', 'query', 'headers', 'body', 'all'] as const;

/**
 * A fuzzed request on any route; `ids` are real ids (pointers, clients, organisations, roles).
 * One part (path, query, headers or body) is fuzzed while the others are what a well-behaved
 * client with a valid token sends, or all parts are fuzzed at once.
 */
export function fuzzRequest(ids: readonly string[]): fc.Arbitrary<FuzzRequest> {
  return fc.tuple(fc.constantFrom(...ROUTES), fc.constantFrom(...FOCUS)).chain(([route, focus]) => {
    const fuzz = (part: (typeof FOCUS)[number]) => focus === 'all' || focus === part;
    const cleanPath = route.path.replaceAll('{id}', ids[ids.length - 1] ?? 'x');
    return fc.record({
      route: fc.constant(route),
      method: fuzz('all')
        ? fc.oneof(
            { weight: 9, arbitrary: fc.constant(route.method) },
            { weight: 1, arbitrary: fc.constantFrom(...METHODS) },
          )
        : fc.constant(route.method),
      path: fuzz('path') ? pathOf(route.path, ids) : fc.constant(cleanPath),
      query: fuzz('query')
        ? queryString
        : fc.constant(route.body ? '' : 'subject:identifier=https://fhir.nhs.uk/Id/nhs-number|9000000009'),
      body: fuzz('body')
        ? route.body
          ? bodyFor(route.body)
          : fc.oneof(
              { weight: 4, arbitrary: fc.constant<FuzzBody>({}) },
              { weight: 1, arbitrary: bodyFor(undefined) },
            )
        : fc.constant(cleanBody(route.body)),
      auth: fuzz('headers')
        ? authChoice
        : fc.oneof(
            { weight: 9, arbitrary: fc.constant('valid') },
            { weight: 1, arbitrary: fc.constant('none') },
          ),
      requestId: fuzz('headers') ? requestIdChoice : fc.constant('fresh'),
      ods: fuzz('headers') ? odsChoice : fc.constant('right'),
      extra: fuzz('headers') ? extraHeaders : fc.constant({}),
    });
  });
}
