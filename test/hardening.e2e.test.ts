/**
 * Issue 14, "Bad input is a 4xx OperationOutcome, never a 500" (points 1-5), searches are not
 * conditional (7) and the response headers (11), each as the attack report reproduced it, on
 * both databases (R16: one error model; R7: every request audited).
 */
import { Writable } from 'node:stream';
import { gzipSync } from 'node:zlib';
import { createLogger } from '@nir/server';
import type { Store } from '@nir/store';
import { testBackends } from '@nir/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clinicalHeaders, errorCode, startTestRegistry, type TestRegistry } from './support/harness.ts';
import { validPointer } from './support/pointers.ts';
import { type RawReply, rawRequest } from './support/raw-http.ts';

const backends = await testBackends();
const NHS = '9000000009';
const SUBJECT = `subject:identifier=https://fhir.nhs.uk/Id/nhs-number|${NHS}`;
const BASE = { consumer: '/consumer/FHIR/R4', producer: '/producer/FHIR/R4', audit: '/audit/FHIR/R4' };
const ERROR_SYSTEM = 'https://fhir.nhs.uk/CodeSystem/Spine-ErrorOrWarningCode';
/** Marks text that must never reach the log: an NHS number and a client assertion. */
const SECRET = `9434765919.eyJhbGciOiJSUzUxMiJ9.client-assertion-${crypto.randomUUID()}`;

describe.each(backends)('issue 14 hardening on $name', (backend) => {
  let t: TestRegistry;
  let store: Store;
  const log: string[] = [];
  const as: Record<'consumer' | 'producer' | 'audit' | 'admin', (id?: string) => Record<string, string>> = {
    consumer: () => ({}),
    producer: () => ({}),
    audit: () => ({}),
    admin: () => ({}),
  };

  beforeAll(async () => {
    store = await backend.open();
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        log.push(chunk.toString('utf8'));
        callback();
      },
    });
    t = await startTestRegistry(store, { logger: createLogger('debug', sink) });
    const tokens = {
      consumer: await t.token('demo-consumer'),
      producer: await t.token('demo-provider-a'),
      audit: await t.token('demo-audit'),
      admin: await t.token('demo-admin'),
    };
    as.consumer = (id) => clinicalHeaders(tokens.consumer, 'RWY', id);
    as.producer = (id) => clinicalHeaders(tokens.producer, 'RR8', id);
    as.audit = (id) => clinicalHeaders(tokens.audit, 'RR8', id);
    as.admin = (id = crypto.randomUUID()) => ({
      authorization: `Bearer ${tokens.admin}`,
      'x-request-id': id,
    });
  });
  afterAll(async () => {
    await t.close();
  });

  const send = (method: string, path: string, headers: Record<string, string>, body?: Buffer | string) =>
    rawRequest(t.url, method, path, headers, body);

  /** Asserts a refusal: status, NRL code, FHIR content type, and (optionally) the element. */
  function expectRefusal(reply: RawReply, status: number, code: string, expression?: string): void {
    const context = `${status} ${code}: got ${reply.status} ${reply.text.slice(0, 400)}`;
    expect(reply.status, context).toBe(status);
    expect(reply.headers['content-type'], context).toBe('application/fhir+json; charset=utf-8');
    const body = JSON.parse(reply.text) as {
      resourceType: string;
      issue: { expression?: string[]; details: { coding: { system: string }[] } }[];
    };
    expect(body.resourceType, context).toBe('OperationOutcome');
    expect(errorCode(body), context).toBe(code);
    expect(body.issue[0]?.details.coding[0]?.system, context).toBe(ERROR_SYSTEM);
    if (expression) expect(body.issue[0]?.expression, context).toEqual([expression]);
  }

  /** The statuses the audit recorded for a request id (R7: every request, refusals too). */
  async function audited(requestId: string): Promise<string[]> {
    const rows = await store.db
      .selectFrom('audit_event')
      .select(['outcome', 'subtype'])
      .where('request_id', '=', requestId)
      .execute();
    return rows.map((row) => `${row.subtype}:${row.outcome}`);
  }

  describe('point 1: malformed percent-encoding in a path is 400, audited, before any token is checked', () => {
    const ID_ROUTES: [keyof typeof as, string][] = [
      ['consumer', `${BASE.consumer}/DocumentReference/{x}`],
      ['producer', `${BASE.producer}/DocumentReference/{x}`],
      ['producer', `${BASE.producer}/DocumentReference/{x}/_history`],
      ['audit', `${BASE.audit}/AuditEvent/{x}`],
      ['audit', `${BASE.audit}/$export-status/{x}`],
      ['audit', `${BASE.audit}/$export-file/{x}/file-1`],
      ['admin', '/admin/organisations/{x}'],
      ['admin', '/admin/clients/{x}'],
      ['admin', '/admin/grants/{x}/consumer'],
    ];
    it.each(['%zz', '%', '%C0%AF', '%ED%A0%80'])(
      '%s on every /:id route, with and without a token',
      async (bad) => {
        for (const [role, template] of ID_ROUTES) {
          for (const withToken of [true, false]) {
            const requestId = crypto.randomUUID();
            const headers = withToken ? as[role](requestId) : { 'x-request-id': requestId };
            const reply = await send('GET', template.replace('{x}', bad), headers);
            expectRefusal(reply, 400, 'INVALID_PARAMETER', 'path');
            expect(await audited(requestId), template).toHaveLength(1);
          }
        }
      },
    );
  });

  describe('point 2: a control character in any parameter is 400 at the edge, never reaching the database', () => {
    const SEARCH_PARAMS = [
      '_id',
      'setting',
      'facility',
      'event',
      'format',
      'security-label',
      'related',
      'type',
    ];

    it.each(['%00', '%01', '%1F', '%7F%00'])(
      '%s in every consumer search value, GET and POST',
      async (ctl) => {
        for (const param of SEARCH_PARAMS) {
          const query = `${SUBJECT}&${param}=a${ctl}b`;
          const get = await send('GET', `${BASE.consumer}/DocumentReference?${query}`, as.consumer());
          expectRefusal(get, 400, 'INVALID_PARAMETER', param);
          const form = await send(
            'POST',
            `${BASE.consumer}/DocumentReference/_search`,
            {
              ...as.consumer(),
              'content-type': 'application/x-www-form-urlencoded',
            },
            query,
          );
          expectRefusal(form, 400, 'INVALID_PARAMETER', param);
        }
        const json = await send(
          'POST',
          `${BASE.consumer}/DocumentReference/_search`,
          {
            ...as.consumer(),
            'content-type': 'application/json',
          },
          JSON.stringify({
            'subject:identifier': `https://fhir.nhs.uk/Id/nhs-number|${NHS}`,
            _id: `a${decodeURIComponent(ctl)}`,
          }),
        );
        expectRefusal(json, 400, 'MESSAGE_NOT_WELL_FORMED', '_id');
      },
    );

    it('in an id on every base, a parameter name, an admin key, an admin query and a catalogue name', async () => {
      expectRefusal(
        await send('GET', `${BASE.consumer}/DocumentReference/a%00b`, as.consumer()),
        400,
        'INVALID_PARAMETER',
        'path',
      );
      expectRefusal(
        await send('DELETE', `${BASE.producer}/DocumentReference/RR8-a%00`, as.producer()),
        400,
        'INVALID_PARAMETER',
        'path',
      );
      expectRefusal(
        await send('GET', `${BASE.audit}/AuditEvent/a%00`, as.audit()),
        400,
        'INVALID_PARAMETER',
        'path',
      );
      expectRefusal(
        await send('GET', `${BASE.consumer}/DocumentReference?${SUBJECT}&a%00=1`, as.consumer()),
        400,
        'INVALID_PARAMETER',
      );
      expectRefusal(
        await send('GET', '/admin/organisations/AB%00C', as.admin()),
        400,
        'INVALID_PARAMETER',
        'path',
      );
      expectRefusal(
        await send('GET', '/admin/changes?key=a%00', as.admin()),
        400,
        'INVALID_PARAMETER',
        'key',
      );
      expectRefusal(await send('GET', '/admin/grants?ods=R%00', as.admin()), 400, 'INVALID_PARAMETER', 'ods');
      const named = await send(
        'PUT',
        '/admin/organisations/ZZ901',
        { ...as.admin(), 'content-type': 'application/json' },
        JSON.stringify({ name: 'Null\u0000Trust', status: 'active' }),
      );
      expectRefusal(named, 400, 'MESSAGE_NOT_WELL_FORMED', 'name');
      expect((await send('GET', '/admin/organisations/ZZ901', as.admin())).status).toBe(404);
    });
  });

  it('point 2: a control character in a pointer is refused by the validator with its element', async () => {
    const pointer = { ...validPointer({ nhsNumber: NHS }), description: 'Null\u0000report' };
    const reply = await send(
      'POST',
      `${BASE.producer}/DocumentReference`,
      { ...as.producer(), 'content-type': 'application/fhir+json' },
      JSON.stringify(pointer),
    );
    expect(reply.status, reply.text.slice(0, 400)).toBe(400);
    expect(reply.text).toContain('description');
  });

  describe('point 3: FHIR dates at the edges of 0001-9999 are searched, not a 500', () => {
    it.each([
      'date=le9999-12-31',
      'date=gt9999',
      'date=eq9999',
      'date=ap9999',
      'date=ap0001',
      'period=ap0001',
      'period=gt9999',
      'date=ge0001-01-01T00:00:00%2B14:00',
    ])('consumer search %s', async (dates) => {
      const reply = await send(
        'GET',
        `${BASE.consumer}/DocumentReference?${SUBJECT}&${dates}`,
        as.consumer(),
      );
      expect(reply.status, reply.text.slice(0, 300)).toBe(200);
    });

    it('a pointer with dates in 9999 is stored and found; the audit search takes date=le9999-12-31', async () => {
      // The registry sets `date`; the provider's own dates are the attachment's and the period's.
      const pointer = validPointer({ nhsNumber: NHS });
      const attachment = pointer.content[0]?.attachment;
      if (!attachment || !pointer.context) throw new Error('fixture has no attachment or context');
      attachment.creation = '9999-12-31T23:59:59Z';
      pointer.context.period = { start: '2026-01-01', end: '9999-12-31' };
      const created = await send(
        'POST',
        `${BASE.producer}/DocumentReference`,
        { ...as.producer(), 'content-type': 'application/fhir+json' },
        JSON.stringify(pointer),
      );
      expect(created.status, created.text.slice(0, 300)).toBe(201);
      const found = await send(
        'GET',
        `${BASE.consumer}/DocumentReference?${SUBJECT}&creation=eq9999&period=ge9999-12-31`,
        as.consumer(),
      );
      expect((JSON.parse(found.text) as { total: number }).total, found.text.slice(0, 900)).toBe(1);
      const audit = await send('GET', `${BASE.audit}/AuditEvent?date=ge2020&date=le9999-12-31`, as.audit());
      expect(audit.status, audit.text.slice(0, 300)).toBe(200);
    });
  });

  describe('point 4: bodies the parsers refuse, and an admin cursor past bigint', () => {
    const manyParams = (extra: string) =>
      `${Array.from({ length: 1001 }, (_, i) => `p${i}=1`).join('&')}&${extra}`;

    it('more than 1,000 form parameters: 413 PAYLOAD_TOO_LARGE on the token endpoint and _search', async () => {
      const token = await send(
        'POST',
        '/oauth2/token',
        { 'content-type': 'application/x-www-form-urlencoded', 'x-request-id': 'many-token' },
        manyParams(`client_assertion=${SECRET}`),
      );
      expectRefusal(token, 413, 'PAYLOAD_TOO_LARGE');
      const search = await send(
        'POST',
        `${BASE.consumer}/DocumentReference/_search`,
        { ...as.consumer(), 'content-type': 'application/x-www-form-urlencoded' },
        manyParams(SUBJECT),
      );
      expectRefusal(search, 413, 'PAYLOAD_TOO_LARGE');
    });

    it.each(['gzip', 'br', 'deflate'])(
      'a body that does not decode as Content-Encoding: %s says is 400',
      async (encoding) => {
        for (const path of ['/oauth2/token', `${BASE.consumer}/DocumentReference/_search`]) {
          const reply = await send(
            'POST',
            path,
            {
              ...as.consumer(),
              'content-type': 'application/x-www-form-urlencoded',
              'content-encoding': encoding,
            },
            `not ${encoding}: ${SECRET}`,
          );
          expectRefusal(reply, 400, 'BAD_REQUEST', 'Content-Encoding');
        }
      },
    );

    it('a body that does decode is read (gzip), and an unknown encoding is 415', async () => {
      const ok = await send(
        'POST',
        `${BASE.consumer}/DocumentReference/_search`,
        { ...as.consumer(), 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' },
        gzipSync(SUBJECT),
      );
      expect(ok.status, ok.text.slice(0, 300)).toBe(200);
      const unknown = await send(
        'POST',
        `${BASE.consumer}/DocumentReference/_search`,
        {
          ...as.consumer(),
          'content-type': 'application/x-www-form-urlencoded',
          'content-encoding': 'compress',
        },
        SUBJECT,
      );
      expectRefusal(unknown, 415, 'UNSUPPORTED_MEDIA_TYPE', 'Content-Encoding');
    });

    it.each(['1e300', '9223372036854775808', '-1', '1.5'])(
      '/admin/changes?after=%s is 400 INVALID_PARAMETER',
      async (after) => {
        expectRefusal(
          await send('GET', `/admin/changes?after=${after}`, as.admin()),
          400,
          'INVALID_PARAMETER',
          'after',
        );
      },
    );
  });

  it('point 5: no request body reaches the log, whichever parser refuses it', async () => {
    const before = log.length;
    const bodies: [string, Record<string, string>, string][] = [
      [
        '/oauth2/token',
        { 'content-type': 'application/x-www-form-urlencoded' },
        `p=1&${'q=2&'.repeat(1001)}client_assertion=${SECRET}`,
      ],
      [
        '/oauth2/token',
        { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' },
        SECRET,
      ],
      [
        `${BASE.consumer}/DocumentReference/_search`,
        { ...as.consumer(), 'content-type': 'application/json' },
        `{"nhs": "${SECRET}"`,
      ],
      [
        `${BASE.producer}/DocumentReference`,
        { ...as.producer(), 'content-type': 'application/fhir+json' },
        `{"id": "${SECRET}`,
      ],
      [
        'PUT /admin/organisations/ZZ902',
        { ...as.admin(), 'content-type': 'application/json' },
        `{"name": "${SECRET}`,
      ],
      [
        `${BASE.consumer}/DocumentReference/_search`,
        { ...as.consumer(), 'content-type': 'application/json', 'content-encoding': 'br' },
        SECRET,
      ],
    ];
    const statuses: string[] = [];
    for (const [target, headers, body] of bodies) {
      const [method, path] = target.includes(' ') ? target.split(' ') : ['POST', target];
      const reply = await send(method ?? 'POST', path ?? '', headers, body);
      statuses.push(`${target} ${reply.status}`);
    }
    const written = log.slice(before).join('');
    expect(written.length).toBeGreaterThan(0);
    expect(written).not.toContain(SECRET);
    expect(written).not.toContain('9434765919');
    // …and each was refused as the client's fault.
    for (const status of statuses) expect(status).toMatch(/ 4\d\d$/);
  });

  it('point 7: If-None-Match: * on a consumer search answers the search (200, a Bundle), audited as such', async () => {
    for (const [method, path, extra, body] of [
      ['GET', `${BASE.consumer}/DocumentReference?${SUBJECT}`, {}, undefined],
      [
        'POST',
        `${BASE.consumer}/DocumentReference/_search`,
        { 'content-type': 'application/x-www-form-urlencoded' },
        SUBJECT,
      ],
    ] as const) {
      const requestId = crypto.randomUUID();
      const reply = await send(
        method,
        path,
        { ...as.consumer(requestId), ...extra, 'if-none-match': '*' },
        body,
      );
      expect(reply.status).toBe(200);
      expect((JSON.parse(reply.text) as { resourceType: string }).resourceType).toBe('Bundle');
      expect(await audited(requestId)).toEqual(['search-type:0']);
    }
  });

  it('every request to an audited endpoint is audited, HEAD (405) included', async () => {
    for (const path of [
      `${BASE.consumer}/DocumentReference?${SUBJECT}`,
      '/admin/organisations',
      '/oauth2/token',
    ]) {
      const requestId = crypto.randomUUID();
      const reply = await send('HEAD', path, as.consumer(requestId));
      expect(reply.status, path).toBe(405);
      expect(await audited(requestId), path).toHaveLength(1);
    }
    expect((await send('HEAD', '/_status', {})).status).toBe(405);
    expect((await send('HEAD', `${BASE.consumer}/metadata`, {})).status).toBe(405);
  });

  describe('point 11: response headers', () => {
    it('clinical, audit and admin responses (refusals too) carry no-store and nosniff; discovery stays cacheable', async () => {
      const replies = [
        await send('GET', `${BASE.consumer}/DocumentReference?${SUBJECT}`, as.consumer()),
        await send('GET', `${BASE.consumer}/DocumentReference/nope`, as.consumer()),
        await send('GET', `${BASE.audit}/AuditEvent?date=ge2020&date=lt2030`, as.audit()),
        await send('GET', `${BASE.producer}/DocumentReference?${SUBJECT}`, {}),
        await send('GET', '/admin/organisations', as.admin()),
        await send('GET', '/_status', {}),
      ];
      for (const reply of replies) {
        expect(reply.headers['cache-control']).toBe('no-store');
        expect(reply.headers['x-content-type-options']).toBe('nosniff');
        expect(reply.headers['strict-transport-security']).toBeUndefined();
      }
      const metadata = await send('GET', `${BASE.consumer}/metadata`, {});
      expect(metadata.headers['x-content-type-options']).toBe('nosniff');
      expect(metadata.headers['cache-control']).not.toContain('no-store');
    });

    it('the Authorization scheme is case-insensitive (RFC 7235): bearer, BEARER, with more than one space', async () => {
      const token = (as.consumer().authorization ?? '').slice('Bearer '.length);
      for (const scheme of ['bearer ', 'BEARER ', 'bEaReR   ']) {
        const reply = await send('GET', `${BASE.consumer}/DocumentReference?${SUBJECT}`, {
          ...as.consumer(),
          authorization: `${scheme}${token}`,
        });
        expect(reply.status, scheme).toBe(200);
      }
      const basic = await send('GET', `${BASE.consumer}/DocumentReference?${SUBJECT}`, {
        ...as.consumer(),
        authorization: `Basic ${token}`,
      });
      expectRefusal(basic, 401, 'ACCESS_DENIED');
    });

    it('no CORS: neither a preflight nor a cross-origin request gets an Access-Control header', async () => {
      const origin = { origin: 'https://evil.example' };
      const preflight = await send('OPTIONS', `${BASE.consumer}/DocumentReference`, {
        ...origin,
        'access-control-request-method': 'GET',
      });
      const get = await send('GET', `${BASE.consumer}/DocumentReference?${SUBJECT}`, {
        ...as.consumer(),
        ...origin,
      });
      for (const reply of [preflight, get]) {
        expect(Object.keys(reply.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
      }
      expect(preflight.status).toBe(405);
    });
  });
});

describe.each(backends)('HSTS behind an https public URL on $name', (backend) => {
  it('sends Strict-Transport-Security when NIR_PUBLIC_URL is https', async () => {
    const t = await startTestRegistry(await backend.open(), {
      env: { NIR_PUBLIC_URL: 'https://nir.example.nhs.uk' },
    });
    try {
      for (const path of ['/_status', `${BASE.consumer}/metadata`, `${BASE.consumer}/DocumentReference`]) {
        const reply = await rawRequest(t.url, 'GET', path, {});
        expect(reply.headers['strict-transport-security'], path).toBe('max-age=31536000');
      }
    } finally {
      await t.close();
    }
  });
});
