/**
 * Readiness (R16), apart from liveness: `/_status` says the process and its database answer (as
 * NRL has it); `/_ready` says whether this instance should receive traffic now: the database
 * answers, every migration is applied, the signing keys are loaded, and it is not draining.
 * On SIGTERM the instance drains: it stops being ready first, so a load balancer sends it
 * nothing new, then finishes what it has.
 */
import { refuse } from '@nir/core';
import type { RequestHandler } from 'express';
import { sendOutcome } from '../http/respond.ts';

/** What readiness asks. */
export interface ReadinessChecks {
  ping: () => Promise<boolean>;
  pendingMigrations: () => Promise<string[]>;
  /** True when a signing key is loaded (tokens can be issued and verified). */
  keysLoaded: () => boolean;
}

/** The result of one readiness check. */
export interface ReadinessReport {
  ready: boolean;
  checks: { database: boolean; migrations: boolean; signingKeys: boolean; notDraining: boolean };
}

/** Whether this instance should receive traffic. */
export class Readiness {
  readonly #checks: ReadinessChecks;
  #draining = false;

  constructor(checks: ReadinessChecks) {
    this.#checks = checks;
  }

  /** Stops being ready, for good (the instance is shutting down). */
  drain(): void {
    this.#draining = true;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Checks everything now. */
  async check(): Promise<ReadinessReport> {
    const database = await this.#checks.ping();
    const migrations = database && (await this.#checks.pendingMigrations().catch(() => ['?'])).length === 0;
    const checks = {
      database,
      migrations,
      signingKeys: this.#checks.keysLoaded(),
      notDraining: !this.#draining,
    };
    return { ready: Object.values(checks).every(Boolean), checks };
  }
}

/** `GET /_ready`: 200 with the checks while ready, else 503 SERVICE_UNAVAILABLE naming what failed. */
export function readyRoute(readiness: Readiness): RequestHandler {
  return async (_req, res) => {
    res.setHeader('Cache-Control', 'no-store');
    const report = await readiness.check();
    if (report.ready) {
      res.status(200).json(report);
      return;
    }
    const failed = Object.entries(report.checks)
      .filter(([, ok]) => !ok)
      .map(([name]) => name);
    sendOutcome(res, refuse('SERVICE_UNAVAILABLE', `Not ready: ${failed.join(', ')}`));
  };
}
