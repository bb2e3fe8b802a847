import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AuditEvent } from '@medplum/fhirtypes';
import { type AuditRecord, auditFacts, toAuditEvents } from '@nir/core';
import { AuditStore, type Store } from '@nir/store';
import { testBackends } from '@nir/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliRunner } from '../test-support.ts';

const backends = await testBackends();

function event(recorded: string, overrides: Partial<AuditRecord>): AuditEvent[] {
  return toAuditEvents({
    recorded,
    kind: { subtype: 'read', action: 'R' },
    status: 200,
    serverUrl: 'http://nir.test',
    patients: [],
    pointers: [],
    custodians: [],
    ...overrides,
  });
}

describe.each(backends)('nir audit export on $name', (backend) => {
  let store: Store;
  let dir: string;
  const nir = cliRunner(() => ({ store }));

  beforeAll(async () => {
    store = await backend.open();
    dir = await mkdtemp(path.join(tmpdir(), 'nir-audit-'));
    const audit = new AuditStore(store.db);
    const base = Date.parse('2026-10-30T00:00:00Z');
    const events: AuditEvent[] = [];
    for (let i = 0; i < 2500; i++) {
      const recorded = new Date(base + i * 3600_000).toISOString();
      // Thirds: RR8's own requests, RWY's requests on RR8's pointers, RWY's on RAE's pointers.
      const share = i % 3;
      events.push(
        ...event(recorded, {
          requestId: `cli-${i}`,
          requester: { ods: share === 0 ? 'RR8' : 'RWY', verified: true },
          custodians: share === 1 ? ['RR8'] : share === 2 ? ['RAE'] : [],
        }),
      );
    }
    for (let i = 0; i < events.length; i += 500) await audit.insert(events.slice(i, i + 500));
  });
  afterAll(async () => {
    await store?.close();
  });

  async function lines(file: string): Promise<AuditEvent[]> {
    const text = await readFile(file, 'utf8');
    return text
      .trim()
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => JSON.parse(l) as AuditEvent);
  }

  it('R8: exports exactly what the organisation may see, oldest first', async () => {
    const out = path.join(dir, 'rr8.ndjson');
    const result = await nir(
      'audit',
      'export',
      '--org',
      'RR8',
      '--out',
      out,
      '--until',
      '2028-01-01T00:00:00Z',
    );
    expect(result).toMatchObject({ code: 0, err: '' });
    const events = await lines(out);
    expect(result.out).toBe(`Exported ${events.length} AuditEvent(s) visible to RR8 to ${out}\n`);
    const ids = events.map((e) => Number(auditFacts(e).requestId?.slice(4)));
    expect(ids).toEqual(Array.from({ length: 2500 }, (_, i) => i).filter((i) => i % 3 !== 2));
    const rae = path.join(dir, 'rae.ndjson');
    await nir('audit', 'export', '--org', 'RAE', '--out', rae, '--until', '2028-01-01T00:00:00Z');
    expect((await lines(rae)).every((e) => auditFacts(e).custodianOds.includes('RAE'))).toBe(true);
  });

  it('honours --since and --until, and --all exports every event', async () => {
    const out = path.join(dir, 'window.ndjson');
    const result = await nir(
      'audit',
      'export',
      '--all',
      '--since',
      '2026-11-01T00:00:00Z',
      '--until',
      '2026-11-02T00:00:00Z',
      '--out',
      out,
    );
    expect(result.code).toBe(0);
    const events = await lines(out);
    expect(events).toHaveLength(24);
    expect(events.every((e) => e.recorded >= '2026-11-01' && e.recorded < '2026-11-02')).toBe(true);
  });

  it('refuses a missing or malformed organisation and time', async () => {
    expect((await nir('audit', 'export', '--out', path.join(dir, 'x.ndjson'))).err).toContain('--org');
    expect((await nir('audit', 'export', '--org', 'rr8!', '--out', 'x')).code).not.toBe(0);
    const bad = await nir('audit', 'export', '--org', 'RR8', '--since', 'last week', '--out', 'x');
    expect(bad.code).not.toBe(0);
    expect(bad.err).toContain('ISO 8601');
    const unwritable = await nir(
      'audit',
      'export',
      '--org',
      'RR8',
      '--out',
      path.join(dir, 'no', 'such', 'dir.ndjson'),
    );
    expect(unwritable.code).toBe(1);
    expect(unwritable.err).toContain('Cannot write');
  });
});
