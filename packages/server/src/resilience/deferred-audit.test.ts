import type { AuditEvent } from '@medplum/fhirtypes';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { ResilienceCounters } from './counters.ts';
import { DeferredAudit } from './deferred-audit.ts';

const event = (id: string): AuditEvent =>
  ({ resourceType: 'AuditEvent', id, recorded: '2026-12-02T00:00:00Z' }) as AuditEvent;

describe('DeferredAudit (issue 14, point 8)', () => {
  it('keeps failure events while the database is away and writes them when it answers', async () => {
    let up = false;
    const written: string[] = [];
    const counters = new ResilienceCounters();
    const deferred = new DeferredAudit({
      write: async (events) => {
        if (!up) throw new Error('Connection terminated unexpectedly');
        written.push(...events.map((e) => e.id ?? ''));
      },
      logger: pino({ level: 'silent' }),
      counters,
      retryMs: 10,
    });
    deferred.defer([event('a'), event('b')]);
    expect(await deferred.flush()).toBe(false);
    expect(deferred.size).toBe(2);
    up = true;
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(written).toEqual(['a', 'b']);
    expect(deferred.size).toBe(0);
    expect(counters.snapshot()['audit-deferred']).toBe(2);
    expect(counters.snapshot()['audit-deferred-written']).toBe(2);
    deferred.stop();
  });

  it('is bounded: beyond its size new events are dropped and counted', () => {
    const counters = new ResilienceCounters();
    const deferred = new DeferredAudit({
      write: async () => {
        throw new Error('down');
      },
      logger: pino({ level: 'silent' }),
      counters,
      maxEvents: 2,
      retryMs: 60_000,
    });
    deferred.defer([event('a'), event('b'), event('c')]);
    expect(deferred.size).toBe(2);
    expect(counters.snapshot()['audit-deferred-dropped']).toBe(1);
    deferred.stop();
  });
});
