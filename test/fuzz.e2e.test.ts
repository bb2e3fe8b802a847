/**
 * The fuzz suite of issue 14 (R16, R7): fast-check over paths, query strings, headers and bodies
 * on every route, with and without a valid token, against a real registry on each database.
 * Whatever is sent: no 5xx, no unhandled rejection, every refusal an OperationOutcome with an
 * NRL code (the token endpoint: RFC 6749 JSON or an OperationOutcome), a 304 only for a read
 * that has a validator, and every request to an audited endpoint in the audit trail.
 *
 * `NIR_FUZZ_RUNS` (default 500) requests per database; `NIR_FUZZ_SEED` replays a run.
 */
import { ERROR_CODES, SPINE_ERROR_SYSTEM } from '@nir/core';
import type { Store } from '@nir/store';
import { testBackends } from '@nir/store/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Caller, type FuzzRequest, fuzzRequest } from './support/fuzz-requests.ts';
import { startTestRegistry, type TestRegistry } from './support/harness.ts';
import { validPointer } from './support/pointers.ts';
import { type RawReply, rawRequest } from './support/raw-http.ts';

const backends = await testBackends();
const RUNS = Number(process.env.NIR_FUZZ_RUNS ?? 500);
const SEED = process.env.NIR_FUZZ_SEED === undefined ? undefined : Number(process.env.NIR_FUZZ_SEED);
const ODS: Record<Exclude<Caller, 'none'>, string> = {
  consumer: 'RWY',
  producer: 'RR8',
  audit: 'RR8',
  admin: 'X26',
};
const CLIENT: Record<Exclude<Caller, 'none'>, string> = {
  consumer: 'demo-consumer',
  producer: 'demo-provider-a',
  audit: 'demo-audit',
  admin: 'demo-admin',
};
const NRL_CODES = new Set(Object.keys(ERROR_CODES));

/** What a run saw, for the closing figures. */
interface Tally {
  sent: number;
  byStatus: Map<number, number>;
  serverErrors: string[];
  violations: string[];
  audited: Map<string, string>;
}

/** Why a reply breaks the rules, or undefined when it keeps them. */
function violation(request: FuzzRequest, method: string, reply: RawReply): string | undefined {
  if (reply.status >= 500) return `${reply.status} ${reply.text.slice(0, 200)}`;
  if (reply.status === 304 && !(method === 'GET' && request.route.path.endsWith('/{id}'))) {
    return '304 on a request that is not a read (a search is not conditional)';
  }
  if (reply.status < 400 || method === 'HEAD') return undefined;
  let body: {
    resourceType?: string;
    error?: unknown;
    issue?: { details?: { coding?: { system?: string; code?: string }[] } }[];
  };
  try {
    body = JSON.parse(reply.text) as typeof body;
  } catch {
    return `${reply.status} refusal is not JSON: ${reply.text.slice(0, 120)}`;
  }
  if (request.route.path === '/oauth2/token' && typeof body.error === 'string') return undefined;
  const coding = body.issue?.[0]?.details?.coding?.[0];
  if (body.resourceType !== 'OperationOutcome') return `${reply.status} refusal is not an OperationOutcome`;
  if (coding?.system !== SPINE_ERROR_SYSTEM || !NRL_CODES.has(coding.code ?? '')) {
    return `${reply.status} refusal without an NRL code: ${JSON.stringify(coding)}`;
  }
  if (ERROR_CODES[coding.code as keyof typeof ERROR_CODES].status !== reply.status && reply.status !== 422) {
    // NRL uses a few codes with two statuses (e.g. 422 for stage B); anything else must agree.
    if (
      !['INVALID_PARAMETER', 'BAD_REQUEST', 'ACCESS DENIED', 'UNPROCESSABLE_ENTITY'].includes(
        coding.code ?? '',
      )
    ) {
      return `${reply.status} with ${coding.code}, whose status is ${ERROR_CODES[coding.code as keyof typeof ERROR_CODES].status}`;
    }
  }
  return undefined;
}

describe.each(backends)('fuzz: every route, any input, on $name', (backend) => {
  let t: TestRegistry;
  let store: Store;
  const tokens: Record<string, string> = {};
  const ids: string[] = [
    'demo-consumer',
    'demo-provider-a',
    'RR8',
    'RWY',
    'X26',
    'consumer',
    'producer',
    'audit',
  ];
  const rejections: unknown[] = [];
  const onRejection = (reason: unknown) => rejections.push(reason);
  const tally: Tally = { sent: 0, byStatus: new Map(), serverErrors: [], violations: [], audited: new Map() };

  beforeAll(async () => {
    process.on('unhandledRejection', onRejection);
    store = await backend.open();
    t = await startTestRegistry(store);
    for (const [role, client] of Object.entries(CLIENT)) tokens[role] = await t.token(client);
    for (const nhsNumber of ['9000000009', '9434765919']) {
      const reply = await rawRequest(
        t.url,
        'POST',
        '/producer/FHIR/R4/DocumentReference',
        {
          authorization: `Bearer ${tokens.producer}`,
          'x-request-id': crypto.randomUUID(),
          'nhsd-end-user-organisation-ods': 'RR8',
          'content-type': 'application/fhir+json',
        },
        JSON.stringify(validPointer({ nhsNumber })),
      );
      expect(reply.status, reply.text).toBe(201);
      ids.push(
        String(reply.headers.location ?? '')
          .split('/')
          .pop() ?? '',
      );
    }
  });
  afterAll(async () => {
    process.off('unhandledRejection', onRejection);
    await t?.close();
  });

  function headersOf(request: FuzzRequest): { headers: Record<string, string>; requestId?: string } {
    const caller = request.route.caller === 'none' ? 'consumer' : request.route.caller;
    const token = tokens[caller] ?? '';
    const other = tokens[caller === 'consumer' ? 'producer' : 'consumer'] ?? '';
    const headers: Record<string, string> = {};
    const auth: Record<string, string | undefined> = {
      valid: `Bearer ${token}`,
      'other-role': `Bearer ${other}`,
      lowercase: `bearer ${token}`,
      garbage: 'Bearer abc.def.ghi',
      tampered: `Bearer ${token.slice(0, -2)}${token.endsWith('AA') ? 'BB' : 'AA'}`,
      none: undefined,
    };
    const authorization = request.auth.startsWith('raw:') ? request.auth.slice(4) : auth[request.auth];
    if (authorization !== undefined) headers.authorization = authorization;
    let requestId: string | undefined;
    if (request.requestId === 'fresh') requestId = crypto.randomUUID();
    else if (request.requestId.startsWith('raw:')) headers['x-request-id'] = request.requestId.slice(4);
    if (requestId) headers['x-request-id'] = requestId;
    const ods = { right: ODS[caller], other: 'RAE', none: undefined }[request.ods] ?? request.ods.slice(4);
    if (ods !== undefined) headers['nhsd-end-user-organisation-ods'] = ods;
    Object.assign(headers, request.extra);
    if (request.body.contentType !== undefined) headers['content-type'] = request.body.contentType;
    if (request.body.contentEncoding !== undefined)
      headers['content-encoding'] = request.body.contentEncoding;
    return { headers, ...(requestId ? { requestId } : {}) };
  }

  it(`${RUNS} fuzzed requests: no 5xx, refusals are NRL OperationOutcomes, every one audited`, async () => {
    const started = Date.now();
    await fc.assert(
      fc.asyncProperty(fuzzRequest(ids), async (request) => {
        const { headers, requestId } = headersOf(request);
        const target = `${request.path}${request.query ? `?${request.query}` : ''}`;
        const label = `${request.method} ${target.slice(0, 160)}`;
        let reply: RawReply;
        try {
          reply = await rawRequest(t.url, request.method, target, headers, request.body.bytes);
        } catch (error) {
          tally.serverErrors.push(`${label}: connection failed (${(error as Error).message})`);
          throw error;
        }
        tally.sent += 1;
        tally.byStatus.set(reply.status, (tally.byStatus.get(reply.status) ?? 0) + 1);
        const broken = violation(request, request.method, reply);
        if (reply.status >= 500) tally.serverErrors.push(`${label}: ${broken}`);
        if (broken) tally.violations.push(`${label}: ${broken}`);
        if (requestId && request.route.audited && request.method !== 'HEAD')
          tally.audited.set(requestId, label);
        expect(broken, label).toBeUndefined();
      }),
      { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) },
    );

    // Every request to an audited endpoint left its AuditEvent (R7), refusals included.
    const expected = [...tally.audited.keys()];
    const found = new Set<string>();
    for (let i = 0; i < expected.length; i += 500) {
      const rows = await store.db
        .selectFrom('audit_event')
        .select('request_id')
        .where('request_id', 'in', expected.slice(i, i + 500))
        .execute();
      for (const row of rows) if (row.request_id) found.add(row.request_id);
    }
    const unaudited = expected.filter((id) => !found.has(id)).map((id) => tally.audited.get(id));
    const statuses = [...tally.byStatus.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}:${n}`);
    console.info(
      `fuzz on ${backend.name}: ${tally.sent} requests in ${Date.now() - started} ms, ` +
        `${tally.serverErrors.length} 5xx, ${expected.length} audited requests checked, ` +
        `${unaudited.length} unaudited, ${rejections.length} unhandled rejections; statuses ${statuses.join(' ')}`,
    );
    expect(unaudited).toEqual([]);
    expect(tally.serverErrors).toEqual([]);
    expect(rejections).toEqual([]);
  }, 600_000);
});
