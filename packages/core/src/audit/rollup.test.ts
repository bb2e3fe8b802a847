import type { AuditEvent } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import {
  emptySketch,
  failureCode,
  LATENCY_BOUNDS_MS,
  latencyBucket,
  mergeSketch,
  rollupBase,
  sketchQuantile,
} from './rollup.ts';

const failure = (outcomeDesc: string | undefined, outcome = '4') =>
  ({ resourceType: 'AuditEvent', outcome, outcomeDesc }) as AuditEvent;

describe('the R17 rollup model', () => {
  it('puts a latency in the bucket whose bound is the least at or above it', () => {
    expect(latencyBucket(0)).toBe(0);
    expect(latencyBucket(1)).toBe(0);
    expect(latencyBucket(1.2)).toBe(1);
    expect(latencyBucket(2)).toBe(2);
    expect(latencyBucket(3)).toBe(4);
    expect(latencyBucket(1000)).toBe(20);
    expect(latencyBucket(10 ** 9)).toBe(31);
    for (const ms of [0.5, 1.7, 5, 64, 99, 1500, 30_000]) {
      const b = latencyBucket(ms);
      expect(ms).toBeLessThanOrEqual(LATENCY_BOUNDS_MS[b] as number);
      if (b > 0) expect(ms).toBeGreaterThan(LATENCY_BOUNDS_MS[b - 1] as number);
    }
  });

  it('reads percentiles from merged sketches, within a factor √2', () => {
    const a = emptySketch();
    const b = emptySketch();
    for (let ms = 1; ms <= 100; ms++) a[latencyBucket(ms)] = (a[latencyBucket(ms)] ?? 0) + 1;
    for (let ms = 101; ms <= 200; ms++) b[latencyBucket(ms)] = (b[latencyBucket(ms)] ?? 0) + 1;
    const merged = mergeSketch(mergeSketch(emptySketch(), a), b);
    const p50 = sketchQuantile(merged, 0.5) as number;
    expect(p50).toBeGreaterThanOrEqual(100);
    expect(p50).toBeLessThanOrEqual(100 * Math.SQRT2);
    const p99 = sketchQuantile(merged, 0.99) as number;
    expect(p99).toBeGreaterThanOrEqual(198);
    expect(p99).toBeLessThanOrEqual(198 * Math.SQRT2);
    expect(sketchQuantile(emptySketch(), 0.5)).toBeUndefined();
  });

  it('names the endpoint of source.site, and nothing else', () => {
    expect(rollupBase('https://nir.example/consumer/FHIR/R4')).toBe('consumer');
    expect(rollupBase('https://nir.example/oauth2/token')).toBe('token');
    expect(rollupBase('https://nir.example/admin')).toBe('admin');
    expect(rollupBase('https://nir.example/consumer/FHIR/R4/Patient/9000000009')).toBe('other');
    expect(rollupBase(undefined)).toBe('other');
  });

  it('keeps only the registry error code of a failure (never its diagnostics)', () => {
    expect(failureCode(failure('INVALID_PARAMETER: the NHS number 9000000009 is wrong'))).toBe(
      'INVALID_PARAMETER',
    );
    expect(failureCode(failure('ACCESS DENIED'))).toBe('ACCESS DENIED');
    expect(failureCode(failure('invalid_client: unknown'))).toBe('invalid_client');
    expect(failureCode(failure('a free text description that goes on and on and on past fifty chars'))).toBe(
      'OTHER',
    );
    expect(failureCode(failure(undefined))).toBe('OTHER');
    expect(failureCode(failure('anything', '0'))).toBe('');
  });
});
