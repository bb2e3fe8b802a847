/** The shape of a conformance check and its result (R15). */

import type { Observation, ObservedRequest } from '../observe.ts';
import type { Plan } from '../plan.ts';

/** One piece of evidence: a request the registry saw (or a pointer version it stored). */
export interface Evidence {
  requestId: string | null;
  recorded: string;
  /** AuditEvent ids (or `pointer_history` keys `<id>/_history/<n>`). */
  eventIds: string[];
  note: string;
}

/** A judged check. */
export interface CheckResult {
  id: string;
  title: string;
  requirement: string;
  /** The pass/fail criterion, in words. */
  criterion: string;
  status: 'pass' | 'fail';
  /** What was found. */
  summary: string;
  evidence: Evidence[];
  /** What to change when it fails. */
  hint: string;
}

/** A check the verifier can judge from an observation. */
export interface CheckDefinition {
  id: string;
  title: string;
  requirement: string;
  criterion: string;
  hint: string;
  judge(observation: Observation, plan: Plan): { pass: boolean; summary: string; evidence: Evidence[] };
}

/** Evidence from an observed request. */
export function evidenceOf(request: ObservedRequest, note: string): Evidence {
  return { requestId: request.requestId, recorded: request.recorded, eventIds: request.eventIds, note };
}

/** The subtypes of write interactions. */
export const WRITE_SUBTYPES = ['create', 'update', 'delete', 'transaction'];

/** True when the request succeeded. */
export const succeeded = (r: ObservedRequest): boolean => r.outcome === '0';

/** True when the registry refused the request as the client's error (4xx). */
export const refused = (r: ObservedRequest): boolean => r.outcome === '4';

/** Evidence list capped so a report stays readable; the summary gives the full count. */
export function capped(evidence: Evidence[], limit = 20): Evidence[] {
  return evidence.slice(0, limit);
}
