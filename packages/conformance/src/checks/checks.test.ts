import { describe, expect, it } from 'vitest';
import type { Observation, ObservedRequest, ObservedVersion } from '../observe.ts';
import type { Plan } from '../plan.ts';
import { noDeleteAndCreate, validPointers } from './producer.ts';
import { noBlindRetry, purposeOfUse, requestIdPresent, requestIdUnique, tokenReuse } from './session.ts';

const plan = {
  expectedRefusal: { interaction: 'create', status: 422, code: 'UNPROCESSABLE_ENTITY' },
} as Plan;
let clock = Date.parse('2026-12-01T10:00:00Z');

function request(overrides: Partial<ObservedRequest> = {}): ObservedRequest {
  clock += 1000;
  return {
    eventIds: [crypto.randomUUID()],
    recorded: new Date(clock).toISOString(),
    requestId: crypto.randomUUID(),
    subtype: 'read',
    iheTransaction: null,
    outcome: '0',
    code: null,
    patients: ['9995001624'],
    tokenId: 't1',
    purposes: ['TREAT'],
    query: null,
    pointers: [],
    ...overrides,
  };
}

function observe(requests: ObservedRequest[], extra: Partial<Observation> = {}): Observation {
  return { clientId: 'c', since: '', until: '', requests, tokenRequests: [], versions: [], ...extra };
}

describe('session checks (R15)', () => {
  it('REQUEST-ID-PRESENT fails on a request without an id or refused for a header, and on no requests at all', () => {
    expect(requestIdPresent.judge(observe([request(), request()]), plan).pass).toBe(true);
    expect(requestIdPresent.judge(observe([request({ requestId: null })]), plan).pass).toBe(false);
    const odsMissing = request({ outcome: '4', code: 'PRECONDITION_FAILED' });
    const verdict = requestIdPresent.judge(observe([request(), odsMissing]), plan);
    expect(verdict.pass).toBe(false);
    expect(verdict.evidence.map((e) => e.eventIds)).toEqual([odsMissing.eventIds]);
    expect(requestIdPresent.judge(observe([]), plan).pass).toBe(false);
  });

  it('REQUEST-ID-UNIQUE names every request sharing an id', () => {
    const a = request({ requestId: 'same' });
    const b = request({ requestId: 'same', subtype: 'update' });
    const verdict = requestIdUnique.judge(observe([a, request(), b]), plan);
    expect(verdict.pass).toBe(false);
    expect(verdict.evidence.map((e) => e.recorded)).toEqual([a.recorded, b.recorded]);
  });

  it('TOKEN-REUSE allows at most one token per two requests', () => {
    const tokens = (n: number) => Array.from({ length: n }, () => request({ subtype: 'token-issue' }));
    const four = [request(), request(), request(), request()];
    expect(tokenReuse.judge(observe(four, { tokenRequests: tokens(2) }), plan).pass).toBe(true);
    expect(tokenReuse.judge(observe(four, { tokenRequests: tokens(3) }), plan).pass).toBe(false);
    expect(tokenReuse.judge(observe([request()], { tokenRequests: tokens(1) }), plan).pass).toBe(true);
    // A refused token request is not a token.
    const refusedToken = request({ subtype: 'token-issue', outcome: '4' });
    expect(tokenReuse.judge(observe(four, { tokenRequests: [...tokens(2), refusedToken] }), plan).pass).toBe(
      true,
    );
  });

  it('PURPOSE-OF-USE accepts direct care only, and needs a purpose', () => {
    expect(
      purposeOfUse.judge(observe([request({ purposes: ['TREAT'] }), request({ purposes: ['COC'] })]), plan)
        .pass,
    ).toBe(true);
    expect(purposeOfUse.judge(observe([request({ purposes: ['TREAT', 'HMARKT'] })]), plan).pass).toBe(false);
    expect(purposeOfUse.judge(observe([request({ purposes: [] })]), plan).pass).toBe(false);
  });

  it('NO-BLIND-RETRY: the same refusal again within 10 minutes fails; a corrected request or a later one passes', () => {
    const refusal = (o: Partial<ObservedRequest> = {}) =>
      request({ subtype: 'create', outcome: '4', code: 'UNPROCESSABLE_ENTITY', ...o });
    expect(noBlindRetry.judge(observe([refusal(), refusal()]), plan).pass).toBe(false);
    expect(noBlindRetry.judge(observe([refusal(), request({ subtype: 'create' })]), plan).pass).toBe(true);
    expect(noBlindRetry.judge(observe([refusal(), refusal({ code: 'ACCESS DENIED' })]), plan).pass).toBe(
      true,
    );
    expect(noBlindRetry.judge(observe([refusal(), refusal({ patients: ['9999999999'] })]), plan).pass).toBe(
      true,
    );
    const first = refusal();
    clock += 11 * 60_000;
    expect(noBlindRetry.judge(observe([first, refusal()]), plan).pass).toBe(true);
    // A search is the same request only with the same parameters.
    const search = (q: string) => refusal({ subtype: 'search-type', code: 'INVALID_CODE_SYSTEM', query: q });
    expect(noBlindRetry.judge(observe([search('GET /a?type=x'), search('GET /a?type=y')]), plan).pass).toBe(
      true,
    );
    expect(noBlindRetry.judge(observe([search('GET /a?type=x'), search('GET /a?type=x')]), plan).pass).toBe(
      false,
    );
  });
});

describe('producer checks (R11)', () => {
  const version = (o: Partial<ObservedVersion>): ObservedVersion => ({
    id: 'RR8-1',
    version: 1,
    action: 'create',
    recordedAt: '2026-12-01T10:00:00.000Z',
    requestId: 'r',
    nhsNumber: '9995001624',
    type: 'https://nicip.nhs.uk|MAULR',
    supersededBy: null,
    ...o,
  });
  const judge = (versions: ObservedVersion[]) => noDeleteAndCreate.judge(observe([], { versions }), plan);

  it('NO-DELETE-AND-CREATE fails a delete followed by a create of the same patient and type', () => {
    const deleted = version({ action: 'delete', version: 2, recordedAt: '2026-12-01T10:01:00.000Z' });
    const again = version({ id: 'RR8-2', recordedAt: '2026-12-01T10:02:00.000Z' });
    expect(judge([version({}), deleted, again]).pass).toBe(false);
    expect(judge([version({}), deleted, { ...again, type: 'http://snomed.info/sct|418062002' }]).pass).toBe(
      true,
    );
    expect(judge([version({}), deleted, { ...again, nhsNumber: '9999999999' }]).pass).toBe(true);
    expect(judge([version({}), deleted, { ...again, recordedAt: '2026-12-01T10:30:00.000Z' }]).pass).toBe(
      true,
    );
    // Publishing first and withdrawing later is no replacement.
    expect(judge([{ ...again, recordedAt: '2026-12-01T09:59:00.000Z' }, deleted]).pass).toBe(true);
  });

  it("VALID-POINTERS ignores the plan's deliberate refusal and fails any other refused write", () => {
    const planned = request({ subtype: 'create', outcome: '4', code: 'UNPROCESSABLE_ENTITY' });
    expect(validPointers.judge(observe([planned, request({ subtype: 'create' })]), plan).pass).toBe(true);
    const denied = request({ subtype: 'create', outcome: '4', code: 'ACCESS DENIED' });
    expect(validPointers.judge(observe([planned, denied]), plan).pass).toBe(false);
    // Refused reads are not writes.
    expect(
      validPointers.judge(observe([request({ outcome: '4', code: 'NO_RECORD_FOUND' })]), plan).pass,
    ).toBe(true);
  });
});
