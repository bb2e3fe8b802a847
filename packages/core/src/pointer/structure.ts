/**
 * Stage A of pointer validation (nrl-behaviour.md §4.2): is the body a DocumentReference the
 * profile allows at all? Every fault is its own issue, 400 `MESSAGE_NOT_WELL_FORMED`, named
 * by the path of the offending element. Unknown or forbidden elements are refused at any depth
 * (R1: no `attachment.data`, no `contained`, no patient detail beyond the NHS number).
 */
import type { IssueSpec } from '../outcomes.ts';
import { isPrintableText } from '../printable-text.ts';
import type { ElementModel, ElementRule } from './element-model.ts';

/**
 * Elements NRL requires in stage B (V1, V2, V12) rather than in parsing; stage A leaves their
 * absence to the business rules so the error matches NRL's.
 */
const REQUIRED_IN_STAGE_B = new Set([
  'context',
  'context.practiceSetting',
  'custodian',
  'id',
  'type',
  'subject',
  'category',
  'author',
  'custodian.identifier',
  'subject.identifier',
  'context.practiceSetting.coding',
  'subject.identifier.system',
  'custodian.identifier.system',
  'author.identifier.system',
]);

/**
 * Fixed values NRL checks as business rules (V3, V8: 422 naming the system), not as parse
 * errors; the profile still publishes them as fixed.
 */
const FIXED_IN_STAGE_B = new Set([
  'subject.identifier.system',
  'custodian.identifier.system',
  'author.identifier.system',
]);

const ID_PATTERN = /^(?=.{1,64}$)[A-Za-z0-9.]+-[A-Za-z0-9]+[A-Za-z0-9_-]*$/;
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const DOC_STATUSES = ['preliminary', 'final', 'amended', 'entered-in-error'];
const TRIMMED = /^\S(.*\S)?$/s;
const CODED_STRINGS = new Set(['system', 'code', 'display', 'value', 'contentType', 'url']);

/** A stage A issue: `(<loc>: <msg>)`, the expression being `<loc>`. */
export function parseIssue(loc: string, message: string): IssueSpec {
  return {
    code: 'MESSAGE_NOT_WELL_FORMED',
    diagnostics: `Request body could not be parsed (${loc}: ${message})`,
    expression: loc,
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isEmpty(value: unknown): boolean {
  if (value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  return isObject(value) && Object.keys(value).length === 0;
}

/** The NRL location of a child: `a.b`; a key that is not a name is quoted: `a[""]`. */
function join(loc: string, name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) return `${loc}[${JSON.stringify(name)}]`;
  return loc === '' ? name : `${loc}.${name}`;
}

/** The profile path of a location without array indexes: `content[0].format` → `content.format`. */
function plain(loc: string): string {
  return loc.replace(/\[\d+\]/g, '');
}

const PRIMITIVE_JSON: Record<string, (value: unknown) => boolean> = {
  boolean: (v) => typeof v === 'boolean',
  integer: (v) => Number.isInteger(v),
  unsignedInt: (v) => Number.isInteger(v) && (v as number) >= 0,
  positiveInt: (v) => Number.isInteger(v) && (v as number) > 0,
  decimal: (v) => typeof v === 'number',
};

interface Walk {
  model: ElementModel;
  issues: IssueSpec[];
  empties: string[];
}

function checkPrimitive(walk: Walk, rule: ElementRule, loc: string, value: unknown): void {
  const type = rule.types[0] ?? 'string';
  const check = PRIMITIVE_JSON[type];
  if (check) {
    if (!check(value)) walk.issues.push(parseIssue(loc, `Input should be a valid ${type}`));
    return;
  }
  if (typeof value !== 'string') {
    walk.issues.push(parseIssue(loc, 'Input should be a valid string'));
    return;
  }
  if (value === '') return; // reported with the other empty fields
  if (!isPrintableText(value)) {
    walk.issues.push(parseIssue(loc, 'String should contain printable, well-formed Unicode text only'));
    return;
  }
  const name = loc.slice(loc.lastIndexOf('.') + 1).replace(/\[\d+\]$/, '');
  if (CODED_STRINGS.has(name) && !TRIMMED.test(value)) {
    walk.issues.push(parseIssue(loc, 'String should not have leading or trailing whitespace'));
  }
  if ((type === 'instant' || type === 'dateTime') && name === 'date' && !INSTANT.test(value)) {
    walk.issues.push(parseIssue(loc, 'Input should be a valid datetime with a timezone'));
  }
  const fixedHere = typeof rule.fixed === 'string' && !FIXED_IN_STAGE_B.has(plain(loc));
  if (fixedHere && value !== rule.fixed) {
    walk.issues.push(parseIssue(loc, `String should match pattern '^${rule.fixed}$'`));
  }
}

function walkValue(walk: Walk, rule: ElementRule, loc: string, value: unknown, inArray: boolean): void {
  if (value === null) {
    walk.issues.push(parseIssue(loc, 'Input should not be null'));
    return;
  }
  if (isEmpty(value)) {
    walk.empties.push(loc);
    return;
  }
  // How many items a list may hold is a business rule (V6–V8, V12 report it as NRL does).
  if (rule.repeats && !inArray) {
    if (!Array.isArray(value)) {
      walk.issues.push(parseIssue(loc, 'Input should be a valid list'));
      return;
    }
    value.forEach((item, index) => {
      walkValue(walk, rule, `${loc}[${index}]`, item, true);
    });
    return;
  }
  if (walk.model.isComplex(rule.path)) {
    if (!isObject(value)) {
      walk.issues.push(parseIssue(loc, 'Input should be a valid dictionary or object'));
      return;
    }
    walkObject(walk, rule.path, loc, value);
    return;
  }
  if (Array.isArray(value) || isObject(value)) {
    walk.issues.push(parseIssue(loc, 'Input should be a valid string'));
    return;
  }
  checkPrimitive(walk, rule, loc, value);
}

function walkObject(walk: Walk, path: string, loc: string, value: Record<string, unknown>): void {
  for (const [name, child] of Object.entries(value)) {
    if (loc === '' && name === 'resourceType') continue;
    const childLoc = join(loc, name);
    const element = walk.model.child(path, name);
    if (!element || element.forbidden) {
      walk.issues.push(parseIssue(childLoc, 'Extra inputs are not permitted'));
      continue;
    }
    walkValue(walk, element.rule, childLoc, child, false);
  }
  for (const rule of walk.model.children(path)) {
    if (rule.min < 1 || rule.path.endsWith('[x]')) continue;
    const name = rule.path.slice(rule.path.lastIndexOf('.') + 1);
    const childLoc = join(loc, name);
    if (value[name] === undefined && !REQUIRED_IN_STAGE_B.has(plain(childLoc))) {
      walk.issues.push(parseIssue(childLoc, 'Field required'));
    }
  }
}

/**
 * Checks `body` against the profile's closed content model. Returns every stage A issue
 * (empty when the body is structurally a pointer).
 */
export function checkStructure(model: ElementModel, body: unknown): IssueSpec[] {
  if (!isObject(body)) return [parseIssue(model.root, 'Input should be a valid dictionary or object')];
  const walk: Walk = { model, issues: [], empties: [] };
  if (body.resourceType === undefined) {
    walk.issues.push(parseIssue('resourceType', 'Field required'));
  } else if (body.resourceType !== model.root) {
    walk.issues.push(parseIssue('resourceType', `Input should be '${model.root}'`));
    return walk.issues;
  }
  walkObject(walk, model.root, '', body);
  if (typeof body.id === 'string' && body.id !== '' && !ID_PATTERN.test(body.id)) {
    walk.issues.push(parseIssue('id', `String should match pattern '${ID_PATTERN.source}'`));
  }
  if (typeof body.docStatus === 'string' && body.docStatus !== '' && !DOC_STATUSES.includes(body.docStatus)) {
    walk.issues.push(
      parseIssue('docStatus', `Input should be ${DOC_STATUSES.map((s) => `'${s}'`).join(', ')}`),
    );
  }
  if (walk.empties.length > 0) {
    walk.issues.push({
      code: 'MESSAGE_NOT_WELL_FORMED',
      diagnostics: `Request body could not be parsed (${model.root}: Value error, The following fields are empty: ${walk.empties.join(', ')})`,
      expression: model.root,
    });
  }
  return walk.issues;
}
