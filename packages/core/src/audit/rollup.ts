/**
 * The service-review rollup's model (R17): what one AuditEvent adds to the daily rollup, read
 * from the event itself (as `auditFacts` is), so a full scan of the audit table can recompute
 * the rollup and must agree with it. Every dimension is bounded: no NHS number, id or free
 * text reaches a rollup key.
 *
 * Latency is kept as a sketch that merges by addition: a fixed log-scale histogram whose bucket
 * `i` (0 ≤ i < 31) counts latencies at most 2^(i/2) ms (and above the previous bound), and whose
 * last bucket counts everything slower than 2^15 ms. Percentiles of any sum of sketches (days,
 * organisations, interactions) are then read from the summed counts, within a factor √2.
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import type { AuditAction, AuditOutcome } from './codes.ts';
import type { AuditFacts } from './facts.ts';

/** Buckets of a latency sketch. */
export const LATENCY_BUCKETS = 32;

/** Upper bound (ms) of each latency bucket; the last is unbounded. */
export const LATENCY_BOUNDS_MS: readonly number[] = Array.from({ length: LATENCY_BUCKETS }, (_, i) =>
  i === LATENCY_BUCKETS - 1 ? Number.POSITIVE_INFINITY : 2 ** (i / 2),
);

/** The bucket of a latency in milliseconds. */
export function latencyBucket(ms: number): number {
  if (!(ms > 1)) return 0;
  return Math.min(LATENCY_BUCKETS - 1, Math.ceil(2 * Math.log2(ms)));
}

/** The FHIR bases and endpoints an event can come from (`source.site`). */
export const ROLLUP_BASES = ['producer', 'consumer', 'audit', 'token', 'admin', 'other'] as const;
export type RollupBase = (typeof ROLLUP_BASES)[number];

/** The endpoint of `site`, a URL the audit middleware wrote (`<public>/<base>/FHIR/R4`, `/oauth2/token`, `/admin`). */
export function rollupBase(site: string | undefined): RollupBase {
  const match = /\/(producer|consumer|audit)\/FHIR\/R4$|\/oauth2\/(token)$|\/(admin)$/.exec(site ?? '');
  return ((match?.[1] ?? match?.[2] ?? match?.[3]) as RollupBase | undefined) ?? 'other';
}

/** A failure's registry error code from `outcomeDesc` (`CODE` or `CODE: diagnostics`; NRL codes may hold a space, `ACCESS DENIED`); `OTHER` when it is not a code. */
export function failureCode(event: AuditEvent): string {
  if (event.outcome === '0') return '';
  const match = /^([A-Za-z][A-Za-z0-9_ ]{0,47})(?::|$)/.exec(event.outcomeDesc ?? '');
  return match?.[1] ?? 'OTHER';
}

/** Milliseconds from `period.start` to `recorded`, or undefined when the event has no period. */
export function eventLatencyMs(event: AuditEvent): number | undefined {
  const start = event.period?.start;
  if (!start) return undefined;
  const ms = Date.parse(event.recorded) - Date.parse(start);
  return Number.isFinite(ms) ? Math.max(0, ms) : undefined;
}

/** The dimensions of a rollup row. */
export interface RollupKey {
  /** UTC day, `YYYY-MM-DD`. */
  day: string;
  /** The verified requesting organisation, `-` when none was verified. */
  ods: string;
  base: RollupBase;
  /** The subtype code (restful interaction or the registry's own). */
  interaction: string;
  action: AuditAction;
  outcome: AuditOutcome;
  /** The registry error code of a failure, `` for a success. */
  code: string;
}

/** What one event adds to its rollup row. */
export interface RollupContribution {
  key: RollupKey;
  /** 1 when the event names a custodian organisation (for a search: it found something). */
  disclosed: number;
  /** The latency bucket, when the event has a period. */
  bucket: number | undefined;
  /** The custodians whose pointers were involved, for the access rollup (R8: who accessed ours). */
  custodians: string[];
}

/** The rollup contribution of `event`, whose facts are `facts`. */
export function rollupContribution(event: AuditEvent, facts: AuditFacts): RollupContribution {
  const latency = eventLatencyMs(event);
  return {
    key: {
      day: facts.recorded.slice(0, 10),
      ods: facts.requesterOds ?? '-',
      base: rollupBase(event.source?.site),
      interaction: facts.subtype,
      action: facts.action,
      outcome: facts.outcome,
      code: failureCode(event),
    },
    disclosed: facts.custodianOds.length > 0 ? 1 : 0,
    bucket: latency === undefined ? undefined : latencyBucket(latency),
    custodians: facts.custodianOds,
  };
}

/** The key as one string (for grouping). */
export function rollupKeyString(key: RollupKey): string {
  return [key.day, key.ods, key.base, key.interaction, key.action, key.outcome, key.code].join('|');
}

/** An empty latency sketch. */
export function emptySketch(): number[] {
  return new Array<number>(LATENCY_BUCKETS).fill(0);
}

/** Adds `from` into `into` (same length), returning `into`. */
export function mergeSketch(into: number[], from: readonly number[]): number[] {
  for (let i = 0; i < LATENCY_BUCKETS; i++) into[i] = (into[i] ?? 0) + (from[i] ?? 0);
  return into;
}

/**
 * The `q` quantile (0..1) of a sketch, as its bucket's upper bound in ms (the last bucket reports
 * its lower bound, 2^15 ms); undefined for an empty sketch.
 */
export function sketchQuantile(sketch: readonly number[], q: number): number | undefined {
  const total = sketch.reduce((a, b) => a + b, 0);
  if (total === 0) return undefined;
  const rank = Math.max(1, Math.ceil(q * total));
  let seen = 0;
  for (let i = 0; i < sketch.length; i++) {
    seen += sketch[i] ?? 0;
    if (seen >= rank) {
      const bound = LATENCY_BOUNDS_MS[i] ?? Number.POSITIVE_INFINITY;
      return Number.isFinite(bound) ? bound : (LATENCY_BOUNDS_MS[i - 1] ?? 0);
    }
  }
  return undefined;
}
