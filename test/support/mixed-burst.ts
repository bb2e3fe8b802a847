/**
 * A mixed burst through the balancer for the fault tests (issue 19): concurrent clients
 * alternating pointer creates (producer API, audit in the write's transaction) and searches
 * (consumer API, audit by group commit), each with its own X-Request-Id, every answer recorded
 * with when it was asked and answered. `afterMs` lets a test inject its fault mid-burst.
 */
import { clinicalHeaders } from './harness.ts';
import { validPointer } from './pointers.ts';

/** One request of the burst, as the client saw it. */
export interface Answer {
  kind: 'create' | 'search';
  requestId: string;
  /** Milliseconds since the burst started. */
  askedAt: number;
  answeredAt: number;
  /** HTTP status; 0 when the connection failed. */
  status: number;
  /** The created pointer's id (creates answered 201). */
  pointerId?: string;
}

/** What the burst needs. */
export interface BurstSpec {
  url: string;
  providerToken: string;
  consumerToken: string;
  durationMs: number;
  clients: number;
  /** Request id prefix (unique per burst). */
  label: string;
  /**
   * Called once, `fault.atMs` after the start. With `thenMs`, the burst goes on until `thenMs`
   * after the fault's work has finished (however long that takes), not for `durationMs`.
   */
  fault?: { atMs: number; run: () => Promise<void>; thenMs?: number };
}

const NHS_NUMBERS = ['9000000009', '9278693472', '9995001624', '9785146901', '6700028191'];

/** Runs the burst; resolves with every answer once the duration is over and the fault has run. */
export async function mixedBurst(spec: BurstSpec): Promise<Answer[]> {
  const start = performance.now();
  const answers: Answer[] = [];
  let n = 0;
  const one = async (): Promise<void> => {
    const i = n++;
    const kind = i % 2 === 0 ? 'create' : 'search';
    const requestId = `${spec.label}-${i}`;
    const nhsNumber = NHS_NUMBERS[i % NHS_NUMBERS.length] as string;
    const askedAt = performance.now() - start;
    let status = 0;
    let pointerId: string | undefined;
    try {
      const response =
        kind === 'create'
          ? await fetch(`${spec.url}/producer/FHIR/R4/DocumentReference`, {
              method: 'POST',
              headers: {
                ...clinicalHeaders(spec.providerToken, 'RR8', requestId),
                'content-type': 'application/fhir+json',
              },
              body: JSON.stringify(validPointer({ nhsNumber })),
              signal: AbortSignal.timeout(30_000),
            })
          : await fetch(
              `${spec.url}/consumer/FHIR/R4/DocumentReference?subject:identifier=https://fhir.nhs.uk/Id/nhs-number|${nhsNumber}`,
              {
                headers: clinicalHeaders(spec.consumerToken, 'RWY', requestId),
                signal: AbortSignal.timeout(30_000),
              },
            );
      await response.arrayBuffer();
      status = response.status;
      pointerId = response.headers.get('location')?.split('/').pop();
    } catch {
      status = 0;
    }
    answers.push({ kind, requestId, askedAt, answeredAt: performance.now() - start, status, pointerId });
  };
  let endAt = spec.fault?.thenMs === undefined ? spec.durationMs : Number.POSITIVE_INFINITY;
  const client = async () => {
    while (performance.now() - start < endAt) await one();
  };
  const fault = spec.fault
    ? new Promise<void>((resolve, reject) =>
        setTimeout(() => spec.fault?.run().then(resolve, reject), spec.fault?.atMs),
      ).finally(() => {
        if (spec.fault?.thenMs !== undefined) endAt = performance.now() - start + spec.fault.thenMs;
      })
    : Promise.resolve();
  await Promise.all([...Array.from({ length: spec.clients }, client), fault]);
  return answers;
}

/** Runs one query on the database that should hold the burst's data (the primary of the moment). */
export type BurstQuery = <Row>(text: string, params: unknown[]) => Promise<Row[]>;

/** Answers the clients saw as 2xx whose pointer (creates) or AuditEvent (every request, R7) is missing. */
export async function acknowledgedMissing(answers: Answer[], query: BurstQuery): Promise<string[]> {
  const acknowledged = answers.filter((a) => a.status >= 200 && a.status < 300);
  const created = acknowledged.filter((a) => a.kind === 'create');
  const audited = new Set(
    (
      await query<{ request_id: string }>('SELECT request_id FROM audit_event WHERE request_id = ANY($1)', [
        acknowledged.map((a) => a.requestId),
      ])
    ).map((r) => r.request_id),
  );
  const stored = new Set(
    (
      await query<{ id: string }>('SELECT id FROM pointer WHERE id = ANY($1)', [
        created.map((a) => a.pointerId),
      ])
    ).map((r) => r.id),
  );
  return [
    ...acknowledged.filter((a) => !audited.has(a.requestId)).map((a) => `no AuditEvent for ${a.requestId}`),
    ...created
      .filter((a) => !a.pointerId || !stored.has(a.pointerId))
      .map((a) => `no pointer for ${a.requestId}`),
  ];
}

/** A fault's figures for the report. */
export interface FaultFigures {
  fault: string;
  requests: number;
  acknowledged: number;
  failed: number;
  /**
   * The longest stretch of failures, in seconds (0: none): failures less than a second apart
   * count as one stretch, from its first request's asking to its last one's answer.
   */
  errorWindowSeconds: number;
  /** Failed answers by HTTP status (0: no answer). */
  failedStatuses: Record<string, number>;
  /** Answered 2xx but its data or its AuditEvent is missing: must be 0. */
  acknowledgedLost: number;
  slowestMs: number;
}

/** Sums up a burst; `lost` is what the database check found missing. */
export function figures(fault: string, answers: Answer[], lost: number): FaultFigures {
  const failed = answers
    .filter((a) => a.status < 200 || a.status >= 300)
    .sort((a, b) => a.askedAt - b.askedAt);
  let window = 0;
  let stretch: { from: number; to: number } | undefined;
  for (const a of failed) {
    if (stretch && a.askedAt - stretch.to < 1000) stretch.to = Math.max(stretch.to, a.answeredAt);
    else stretch = { from: a.askedAt, to: a.answeredAt };
    window = Math.max(window, (stretch.to - stretch.from) / 1000);
  }
  const failedStatuses: Record<string, number> = {};
  for (const a of failed) failedStatuses[a.status] = (failedStatuses[a.status] ?? 0) + 1;
  return {
    fault,
    requests: answers.length,
    acknowledged: answers.length - failed.length,
    failed: failed.length,
    errorWindowSeconds: Math.round(window * 100) / 100,
    failedStatuses,
    acknowledgedLost: lost,
    slowestMs: Math.round(Math.max(0, ...answers.map((a) => a.answeredAt - a.askedAt))),
  };
}
