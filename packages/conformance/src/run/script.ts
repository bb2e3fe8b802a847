/**
 * The scripted checks of `nir conformance run`: each check runs its requests and judges the
 * answers against the published contract; a thrown error fails that check with its message,
 * and the run goes on (so one fault does not hide the others).
 */
import type { CheckResult, Evidence } from '../checks/types.ts';
import { type Exchange, exchangeEvidence } from './client.ts';

/** What a scripted check is. */
export interface ScriptedCheck {
  id: string;
  title: string;
  requirement: string;
  criterion: string;
  hint: string;
}

/** An expectation: a failed one names what differed. */
export class Expectations {
  readonly problems: string[] = [];
  readonly evidence: Evidence[] = [];

  /** Records `exchange` as evidence, with a note. */
  saw(exchange: Exchange, note?: string): void {
    this.evidence.push(exchangeEvidence(exchange, note));
  }

  /** Records a problem unless `ok`. */
  expect(ok: boolean, problem: string): boolean {
    if (!ok) this.problems.push(problem);
    return ok;
  }

  /** Expects an HTTP status (and an error code), recording the exchange. */
  status(
    response: { status: number; exchange: Exchange; body: unknown },
    status: number,
    code?: string,
  ): boolean {
    const got = (response.body as { issue?: { details?: { coding?: { code?: string }[] } }[] } | undefined)
      ?.issue?.[0]?.details?.coding?.[0]?.code;
    this.saw(response.exchange, code ? `code ${got ?? 'none'}` : undefined);
    const ok = this.expect(
      response.status === status,
      `${response.exchange.method} ${response.exchange.path}: expected ${status}, got ${response.status}`,
    );
    return (
      ok && (code === undefined || this.expect(got === code, `expected code ${code}, got ${got ?? 'none'}`))
    );
  }
}

/** Collects the results of a run's checks. */
export class Script {
  readonly results: CheckResult[] = [];

  /** Runs one check. */
  async check(definition: ScriptedCheck, body: (e: Expectations) => Promise<string>): Promise<boolean> {
    const e = new Expectations();
    let summary: string;
    try {
      summary = await body(e);
    } catch (error) {
      e.problems.push(`stopped: ${(error as Error).message}`);
      summary = '';
    }
    const pass = e.problems.length === 0;
    this.results.push({
      ...definition,
      status: pass ? 'pass' : 'fail',
      summary: pass ? summary : e.problems.join('; '),
      evidence: e.evidence.slice(0, 30),
    });
    return pass;
  }
}
