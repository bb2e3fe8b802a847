/**
 * Audit of refusals that could not be written because the database was away (issue 14,
 * point 8). The response they describe disclosed nothing (a 503, or a stream cut short whose
 * start is already audited), so the registry answers at once and keeps their AuditEvents in
 * memory, retrying every few seconds until the database takes them. Bounded: beyond
 * `maxEvents` new events are dropped and counted (and logged); events still held when the
 * process ends are logged as lost. Disclosures are never deferred: a response that discloses
 * data still waits for its audit (R7).
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import type { ResilienceCounters } from './counters.ts';

/** What the deferred queue needs. */
export interface DeferredAuditDeps {
  write: (events: readonly AuditEvent[]) => Promise<void>;
  logger: Logger;
  counters: ResilienceCounters;
  maxEvents?: number;
  retryMs?: number;
}

/** A bounded in-memory queue of failure events retried until the database takes them. */
export class DeferredAudit {
  readonly #deps: DeferredAuditDeps;
  readonly #max: number;
  readonly #retryMs: number;
  #held: AuditEvent[] = [];
  #timer: NodeJS.Timeout | undefined;
  #writing = false;

  constructor(deps: DeferredAuditDeps) {
    this.#deps = deps;
    this.#max = deps.maxEvents ?? 10_000;
    this.#retryMs = deps.retryMs ?? 2000;
  }

  /** Events waiting for the database. */
  get size(): number {
    return this.#held.length;
  }

  /** Keeps `events` for a later write. */
  defer(events: readonly AuditEvent[]): void {
    const room = Math.max(0, this.#max - this.#held.length);
    const kept = events.slice(0, room);
    if (kept.length < events.length) {
      this.#deps.counters.increment('audit-deferred-dropped', events.length - kept.length);
      this.#deps.logger.error(
        { dropped: events.length - kept.length, ids: events.slice(room).map((e) => e.id) },
        'deferred audit full: events dropped',
      );
    }
    if (kept.length === 0) return;
    this.#held.push(...kept);
    this.#deps.counters.increment('audit-deferred', kept.length);
    this.#schedule();
  }

  /** Tries once now to write what is held; resolves true when nothing is left. */
  async flush(): Promise<boolean> {
    if (this.#writing || this.#held.length === 0) return this.#held.length === 0;
    this.#writing = true;
    const batch = this.#held.slice(0, 1000);
    try {
      await this.#deps.write(batch);
      this.#held = this.#held.slice(batch.length);
      this.#deps.counters.increment('audit-deferred-written', batch.length);
    } catch (error) {
      this.#deps.logger.warn({ err: error, held: this.#held.length }, 'deferred audit still not written');
    } finally {
      this.#writing = false;
    }
    if (this.#held.length > 0) this.#schedule();
    return this.#held.length === 0;
  }

  /** Stops retrying; logs what is lost. */
  stop(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#held.length > 0) {
      this.#deps.logger.error(
        { lost: this.#held.length, ids: this.#held.map((e) => e.id) },
        'deferred audit events lost at shutdown',
      );
    }
  }

  #schedule(): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, this.#retryMs);
    this.#timer.unref();
  }
}
