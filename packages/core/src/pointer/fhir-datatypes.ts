/**
 * FHIR R4 datatype checks of stage A (after the closed model has accepted the structure): every
 * primitive value against its type (Medplum's R4 formats and calendar check, `@medplum/core`),
 * the numeric ranges, and the two R4 invariants a pointer can break, ext-1 (an extension has a
 * value or extensions, not both) and per-1 (a period does not end before it starts). One walk
 * over the body guided by the profile's element model, instead of Medplum's generic crawl with
 * FHIRPath constraints, which cost about 185 µs a pointer (issue 6); `fhir-datatypes.test.ts`
 * holds it to Medplum's verdicts (`medplum-datatypes.ts`) on generated bodies.
 */
import { isValidCalendarDate, validationRegexes } from '@medplum/core';
import type { IssueSpec } from '../outcomes.ts';
import type { ElementModel, ElementRule } from './element-model.ts';
import { parseIssue } from './structure.ts';

const FHIR_INTEGER_MAX = 2147483647;
const NUMERIC_RANGES: Record<string, [number, number]> = {
  integer: [-2147483648, FHIR_INTEGER_MAX],
  positiveInt: [1, FHIR_INTEGER_MAX],
  unsignedInt: [0, FHIR_INTEGER_MAX],
};
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const EXT_1 = 'Constraint ext-1 not met: Must have either extensions or value[x], not both';
const PER_1 = 'Constraint per-1 not met: If present, start SHALL have a lower value than end';

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The FHIR type of a property: its rule's, or for a choice (`value[x]`) the one its name ends with. */
function typeOf(rule: ElementRule, name: string): string {
  if (!rule.path.endsWith('[x]')) return rule.types[0] ?? 'string';
  const prefix = rule.path.slice(rule.path.lastIndexOf('.') + 1, -3);
  const suffix = name.slice(prefix.length).toLowerCase();
  return rule.types.find((type) => type.toLowerCase() === suffix) ?? 'string';
}

function stringIssue(type: string, value: string): string | undefined {
  if (type === 'base64Binary') {
    const compact = value.replace(/\s+/g, '');
    return compact.length % 4 === 0 && BASE64.test(compact) ? undefined : 'Invalid base64Binary format';
  }
  if (!value.trim()) return 'String must contain non-whitespace content';
  if (value.length > 1024 * 1024) return 'String cannot be larger than 1 MB';
  const format = validationRegexes[type];
  if (format && !format.test(value)) return `Invalid ${type} format`;
  if ((type === 'date' || type === 'dateTime' || type === 'instant') && !isValidCalendarDate(value)) {
    return `Invalid ${type} value`;
  }
  return undefined;
}

function numberIssue(type: string, value: number): string | undefined {
  if (!Number.isFinite(value)) return 'Invalid numeric value';
  const range = NUMERIC_RANGES[type];
  if (!range) return undefined;
  if (!Number.isInteger(value)) return 'Expected number to be an integer';
  if (value < range[0] || value > range[1])
    return `Expected number to be in the range ${range[0]}..${range[1]}`;
  return undefined;
}

/** per-1: compared only at the same precision, as FHIRPath's `<=` answers nothing otherwise. */
function periodEndsBeforeStart(period: Record<string, unknown>): boolean {
  const { start, end } = period;
  if (typeof start !== 'string' || typeof end !== 'string' || start.length !== end.length) return false;
  // A malformed start or end is its own fault, reported where it is.
  if (stringIssue('dateTime', start) || stringIssue('dateTime', end)) return false;
  const from = Date.parse(start);
  const to = Date.parse(end);
  return Number.isFinite(from) && Number.isFinite(to) && from > to;
}

interface Walk {
  model: ElementModel;
  issues: IssueSpec[];
}

function walkComplex(
  walk: Walk,
  type: string,
  path: string,
  loc: string,
  value: Record<string, unknown>,
): void {
  if (type === 'Extension') {
    const hasValue = Object.keys(value).some((key) => key.startsWith('value'));
    if (hasValue === Array.isArray(value.extension)) walk.issues.push(parseIssue(loc, EXT_1));
  }
  if (type === 'Period' && periodEndsBeforeStart(value)) walk.issues.push(parseIssue(loc, PER_1));
  walkObject(walk, path, loc, value);
}

function walkValue(walk: Walk, rule: ElementRule, type: string, loc: string, value: unknown): void {
  if (isObject(value)) {
    walkComplex(walk, type, rule.path, loc, value);
    return;
  }
  const issue =
    typeof value === 'string'
      ? stringIssue(type, value)
      : typeof value === 'number'
        ? numberIssue(type, value)
        : undefined;
  if (issue) walk.issues.push(parseIssue(loc, issue));
}

function walkObject(walk: Walk, path: string, loc: string, value: Record<string, unknown>): void {
  for (const [name, child] of Object.entries(value)) {
    const element = walk.model.child(path, name);
    if (!element) continue; // the closed model refuses it (and runs first)
    const type = typeOf(element.rule, name);
    const childLoc = loc === '' ? name : `${loc}.${name}`;
    if (Array.isArray(child)) {
      child.forEach((item, index) => {
        walkValue(walk, element.rule, type, `${childLoc}[${index}]`, item);
      });
    } else {
      walkValue(walk, element.rule, type, childLoc, child);
    }
  }
}

/**
 * The datatype faults of a body the closed model accepted, as stage A issues named by NRL
 * locations (`content[0].attachment.creation`); empty when every value is well formed.
 */
export function datatypeIssues(model: ElementModel, body: Record<string, unknown>): IssueSpec[] {
  const walk: Walk = { model, issues: [] };
  walkObject(walk, model.root, '', body);
  return walk.issues;
}
