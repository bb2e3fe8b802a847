/**
 * Checks judged over a whole session, whatever the plan: headers and request ids, token reuse,
 * purpose of use, refusals handled without blind retries.
 */
import { DIRECT_CARE_PURPOSES } from '@nir/core';
import type { ObservedRequest } from '../observe.ts';
import { type CheckDefinition, capped, evidenceOf, refused } from './types.ts';

const HEADER_CODES = ['MISSING_OR_INVALID_HEADER', 'PRECONDITION_FAILED'];
/** A repeat of a refused request within this long is a retry of it. */
const RETRY_WINDOW_MS = 10 * 60_000;

export const requestIdPresent: CheckDefinition = {
  id: 'REQUEST-ID-PRESENT',
  title: 'Every request carries X-Request-Id and NHSD-End-User-Organisation-ODS',
  requirement: 'R15, R18 (NRL headers)',
  criterion:
    'No request recorded without a request id, or refused 400 MISSING_OR_INVALID_HEADER / PRECONDITION_FAILED',
  hint: 'Send X-Request-Id (a fresh UUID per request; the registry echoes it) and NHSD-End-User-Organisation-ODS (the user organisation) on every FHIR request.',
  judge(observation) {
    const bad = observation.requests.filter(
      (r) => r.requestId === null || HEADER_CODES.includes(r.code ?? ''),
    );
    return {
      pass: bad.length === 0 && observation.requests.length > 0,
      summary:
        observation.requests.length === 0
          ? 'No request of this client was recorded in the period'
          : `${observation.requests.length - bad.length} of ${observation.requests.length} requests carried the headers`,
      evidence: capped(bad.map((r) => evidenceOf(r, r.code ? `refused ${r.code}` : 'no X-Request-Id'))),
    };
  },
};

export const requestIdUnique: CheckDefinition = {
  id: 'REQUEST-ID-UNIQUE',
  title: 'Request ids are unique',
  requirement: 'R15 (NRL X-Request-Id)',
  criterion: 'No X-Request-Id is used by more than one request',
  hint: 'Make a new X-Request-Id (UUID) for every request, retries included; keep one X-Correlation-Id for a user journey instead.',
  judge(observation) {
    const byId = new Map<string, ObservedRequest[]>();
    for (const r of observation.requests) {
      if (r.requestId === null) continue;
      byId.set(r.requestId, [...(byId.get(r.requestId) ?? []), r]);
    }
    const reused = [...byId.values()].filter((list) => list.length > 1);
    return {
      pass: reused.length === 0,
      summary:
        reused.length === 0
          ? `${byId.size} distinct request ids`
          : `${reused.length} request id(s) reused by ${reused.reduce((n, l) => n + l.length, 0)} requests`,
      evidence: capped(reused.flat().map((r) => evidenceOf(r, `request id reused (${r.subtype})`))),
    };
  },
};

export const tokenReuse: CheckDefinition = {
  id: 'TOKEN-REUSE',
  title: 'Access tokens are reused, not fetched per request',
  requirement: 'R18',
  criterion: 'Tokens issued ≤ max(1, ⌈requests / 2⌉): a token serves requests until it nears expiry (300 s)',
  hint: 'Cache the access token and reuse it until shortly before expires_in; ask for a new one only then (or after a 401).',
  judge(observation) {
    const requests = observation.requests.length;
    const issued = observation.tokenRequests.filter((r) => r.outcome === '0');
    const allowed = Math.max(1, Math.ceil(requests / 2));
    const used = new Set(observation.requests.flatMap((r) => (r.tokenId ? [r.tokenId] : [])));
    return {
      pass: requests > 0 && issued.length <= allowed,
      summary: `${issued.length} token(s) issued for ${requests} request(s) (${used.size} distinct tokens used); at most ${allowed} expected`,
      evidence: capped(issued.map((r) => evidenceOf(r, 'token issued'))),
    };
  },
};

export const purposeOfUse: CheckDefinition = {
  id: 'PURPOSE-OF-USE',
  title: 'Every request states a direct-care purpose of use',
  requirement: 'R5',
  criterion: `Each request's end user has purpose of use in ${DIRECT_CARE_PURPOSES.join(', ')} and nothing else`,
  hint: 'Put the end user and purpose_of_use (v3-ActReason TREAT for direct care) in the IUA claims of the client assertion.',
  judge(observation) {
    const bad = observation.requests.filter(
      (r) =>
        r.purposes.length === 0 ||
        r.purposes.some((p) => !(DIRECT_CARE_PURPOSES as readonly string[]).includes(p)),
    );
    return {
      pass: bad.length === 0 && observation.requests.length > 0,
      summary: `${observation.requests.length - bad.length} of ${observation.requests.length} requests for direct care`,
      evidence: capped(bad.map((r) => evidenceOf(r, `purpose of use: ${r.purposes.join(', ') || 'none'}`))),
    };
  },
};

export const expectedRefusal: CheckDefinition = {
  id: 'EXPECTED-REFUSAL',
  title: "The plan's deliberate error was sent and refused as the contract says",
  requirement: 'R15, R16',
  criterion: "At least one request of the plan's interaction was refused with the plan's status and code",
  hint: "Run the plan's refusal step as written: the registry must see the request to judge how it is handled.",
  judge(observation, plan) {
    const want = plan.expectedRefusal;
    const subtype = want.interaction === 'search' ? 'search-type' : want.interaction;
    const seen = observation.requests.filter(
      (r) => r.subtype === subtype && refused(r) && r.code === want.code,
    );
    return {
      pass: seen.length > 0,
      summary:
        seen.length > 0
          ? `${want.interaction} refused ${want.status} ${want.code} (${seen.length}×)`
          : `no ${want.interaction} refused ${want.status} ${want.code} was recorded`,
      evidence: capped(seen.map((r) => evidenceOf(r, `${r.subtype} refused ${r.code}`))),
    };
  },
};

function sameRequest(a: ObservedRequest, b: ObservedRequest): boolean {
  return (
    a.subtype === b.subtype &&
    a.code === b.code &&
    a.patients.join() === b.patients.join() &&
    (a.query ?? '').replace(/^\S+ /, '') === (b.query ?? '').replace(/^\S+ /, '')
  );
}

export const noBlindRetry: CheckDefinition = {
  id: 'NO-BLIND-RETRY',
  title: 'A 4xx refusal is handled, not blindly retried',
  requirement: 'R15, R16',
  criterion:
    'No refused (4xx) request is followed within 10 minutes by the same request refused the same way',
  hint: 'A 4xx means the request itself is wrong: show the OperationOutcome (code, expression) to the user or fix the data; retry only 5xx/429, with backoff.',
  judge(observation) {
    const failures = observation.requests.filter(refused);
    const retries: ObservedRequest[] = [];
    for (const [i, first] of failures.entries()) {
      const firstMs = Date.parse(first.recorded);
      const again = failures
        .slice(i + 1)
        .find((r) => Date.parse(r.recorded) - firstMs <= RETRY_WINDOW_MS && sameRequest(first, r));
      if (again && !retries.includes(again)) retries.push(again);
    }
    return {
      pass: retries.length === 0,
      summary:
        retries.length === 0
          ? `${failures.length} refusal(s), none repeated`
          : `${retries.length} refused request(s) sent again unchanged`,
      evidence: capped(retries.map((r) => evidenceOf(r, `repeat of a refused ${r.subtype} (${r.code})`))),
    };
  },
};
