/**
 * Property tests that say which generated inputs the registry must refuse over HTTP, on both
 * databases (issue 14): every kind of non-NHS number (R12) in a pointer and in a search, every
 * kind of non-ODS code in `NHSD-End-User-Organisation-ODS`, and purposes of use outside direct
 * care (R5). A rule that loses an anchor or a clause (an NHS number pattern without `$` accepts
 * eleven digits) fails here by status and NRL code, not by a diagnostic text. Each test stands
 * alone: it needs only the tokens of `beforeAll`. `FC_SEED=<seed>` replays a failure.
 */

import { demoUserClaims } from '@nir/cli';
import type { IuaClaims } from '@nir/core';
import { ACT_REASON_SYSTEM, DIRECT_CARE_PURPOSES } from '@nir/core';
import { NOT_NHS_NUMBERS, NOT_ODS_CODES, odsCodeShape, validNhsNumber } from '@nir/core/testing';
import { testBackends } from '@nir/store/testing';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fhirCall } from './support/fhir-call.ts';
import { errorCode, startTestRegistry, type TestRegistry } from './support/harness.ts';
import { NHS_NUMBER_SYSTEM, validPointer } from './support/pointers.ts';

const backends = await testBackends();
const PRODUCER = '/producer/FHIR/R4';
const CONSUMER = '/consumer/FHIR/R4';
const RUNS = 25;
const REPLAY = process.env.FC_SEED ? { seed: Number(process.env.FC_SEED) } : {};
const KINDS = Object.entries(NOT_NHS_NUMBERS);

describe.each(backends)('refusal properties on $name', (backend) => {
  let t: TestRegistry;
  let producer: string;
  let consumer: string;

  beforeAll(async () => {
    t = await startTestRegistry(await backend.open());
    producer = await t.token('demo-provider-a');
    consumer = await t.token('demo-consumer');
  });
  afterAll(async () => t?.close());

  const search = (value: string, token = consumer, ods = 'RWY') =>
    fhirCall(
      t,
      'GET',
      `${CONSUMER}/DocumentReference?subject:identifier=${encodeURIComponent(`${NHS_NUMBER_SYSTEM}|${value}`)}`,
      { token, ods },
    );

  it.each(KINDS)(
    'R12: a pointer whose NHS number is %s is refused (422 at subject, 400 when not a FHIR string) and not stored',
    async (_kind, arb) => {
      await fc.assert(
        fc.asyncProperty(arb, async (value) => {
          const res = await fhirCall(
            t,
            'POST',
            `${PRODUCER}/DocumentReference`,
            { token: producer, ods: 'RR8' },
            validPointer({ nhsNumber: value }),
          );
          const context = `${JSON.stringify(value)}: ${res.text}`;
          // Digits only reach the NHS number rule itself (422 at the value); anything else may be
          // refused earlier as a malformed FHIR string (400: empty, leading or trailing space).
          if (/^\d+$/.test(value)) {
            expect([res.status, errorCode(res.body)], context).toEqual([422, 'UNPROCESSABLE_ENTITY']);
            expect(res.body.issue?.[0]?.expression, context).toEqual(['subject.identifier.value']);
          } else {
            expect([400, 422], context).toContain(res.status);
            expect(['UNPROCESSABLE_ENTITY', 'MESSAGE_NOT_WELL_FORMED'], context).toContain(
              errorCode(res.body),
            );
          }
          expect(res.headers.get('location')).toBeNull();
        }),
        { numRuns: RUNS, ...REPLAY },
      );
    },
  );

  it.each(KINDS)(
    'R12: a consumer search for an NHS number that is %s is refused (400)',
    async (kind, arb) => {
      await fc.assert(
        fc.asyncProperty(arb, async (value) => {
          const res = await search(value);
          const context = `${JSON.stringify(value)}: ${res.text}`;
          expect(res.status, context).toBe(400);
          // Digits only reach the NHS number rule itself, which names it; other characters may be
          // refused earlier, as a malformed parameter.
          if (/^\d+$/.test(value))
            expect(errorCode(res.body), `${kind}, ${context}`).toBe('INVALID_NHS_NUMBER');
          expect(res.body.resourceType).toBe('OperationOutcome');
        }),
        { numRuns: RUNS, ...REPLAY },
      );
    },
  );

  it('R12: a consumer search for any generated valid NHS number is answered (200 searchset)', async () => {
    await fc.assert(
      fc.asyncProperty(validNhsNumber, async (value) => {
        const res = await search(value);
        expect([res.status, res.body.type], res.text).toEqual([200, 'searchset']);
      }),
      { numRuns: RUNS, ...REPLAY },
    );
  });

  it.each(Object.entries(NOT_ODS_CODES))(
    'an NHSD-End-User-Organisation-ODS that is %s is refused (400 MISSING_OR_INVALID_HEADER)',
    async (_kind, arb) => {
      await fc.assert(
        fc.asyncProperty(arb, async (ods) => {
          const res = await search('9000000009', consumer, ods);
          expect([res.status, errorCode(res.body)], `${JSON.stringify(ods)}: ${res.text}`).toEqual([
            400,
            'MISSING_OR_INVALID_HEADER',
          ]);
        }),
        { numRuns: RUNS, ...REPLAY },
      );
    },
  );

  it('R3: a well-formed ODS code the client does not act for is refused by the catalogue (403 ACCESS DENIED)', async () => {
    await fc.assert(
      fc.asyncProperty(
        odsCodeShape.filter((ods) => ods !== 'RWY'),
        async (ods) => {
          const res = await search('9000000009', consumer, ods);
          expect([res.status, errorCode(res.body)], `${ods}: ${res.text}`).toEqual([403, 'ACCESS DENIED']);
        },
      ),
      { numRuns: RUNS, ...REPLAY },
    );
  });

  it('R5: a token whose purposes of use are not all direct care is refused (403 ACCESS DENIED); direct care is answered', async () => {
    const other = fc.oneof(
      fc.constantFrom('BTG', 'HRESCH', 'HOPERAT', 'TRAIN', 'treat', 'TREAT '),
      fc.string({ minLength: 1, maxLength: 8 }),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.constantFrom(...DIRECT_CARE_PURPOSES), { maxLength: 2 }),
        fc.option(other.filter((c) => !(DIRECT_CARE_PURPOSES as readonly string[]).includes(c))),
        async (direct, foreign) => {
          const codes = foreign === null ? direct : [...direct, foreign];
          const iua: IuaClaims = {
            ...demoUserClaims('RWY'),
            purpose_of_use: codes.map((code) => ({ system: ACT_REASON_SYSTEM, code })),
          };
          const token = await t.token('demo-consumer', { iua });
          const res = await search('9000000009', token);
          const allowed = codes.length > 0 && foreign === null;
          expect(
            [res.status, allowed ? res.body.type : errorCode(res.body)],
            `${JSON.stringify(codes)}: ${res.text}`,
          ).toEqual(allowed ? [200, 'searchset'] : [403, 'ACCESS DENIED']);
        },
      ),
      { numRuns: 15, ...REPLAY },
    );
  });
});
