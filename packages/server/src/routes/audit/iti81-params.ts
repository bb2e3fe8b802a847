/**
 * The ITI-81 criteria of an audit search (IHE RESTful ATNA, Retrieve ATNA Audit Event; FHIR R4
 * AuditEvent search parameters; mhd-balp.md §3.5) besides `date`: what the event records for an
 * entity, an agent, the source and the event's codes. Repeated parameters are an AND; commas
 * inside one value are an OR. Indexed facts (patient, requester, client, subtype, action,
 * outcome) go to their columns; the rest are conditions on the stored event
 * (`AuditJsonMatch`), applied within the date range and the caller's visibility.
 */
import {
  AUDIT_OUTCOMES,
  type AuditOutcome,
  isOdsCodeShape,
  isValidNhsNumber,
  NHS_NUMBER_SYSTEM,
  NIR_CLIENT_ID_SYSTEM,
  ODS_SYSTEM,
  refuse,
} from '@nir/core';
import type { AuditJsonMatch, AuditQuery, AuditStringMatch, AuditToken } from '@nir/store';
import type { Request } from 'express';

/** The spellings of "any identifier the event records for an entity" (R4 `entity:identifier`, ITI-81 `entity-id`, BALP `entity.identifier`). */
export const ENTITY_IDENTIFIER_KEYS = ['entity:identifier', 'entity-id', 'entity.identifier'];
/** The patient by NHS number (ITI-81 `patient.identifier`). */
export const PATIENT_IDENTIFIER_KEYS = ['patient.identifier', 'patient:identifier'];
const ACTIONS = ['C', 'R', 'U', 'D', 'E'];
const OUTCOME_SYSTEM = 'http://terminology.hl7.org/CodeSystem/audit-event-outcome';
const ACTION_SYSTEM = 'http://hl7.org/fhir/audit-event-action';

function values(req: Request, name: string): string[] {
  const value = req.query[name];
  const list = Array.isArray(value) ? value : [value];
  return list.filter((v): v is string => typeof v === 'string');
}

function items(value: string, name: string): string[] {
  const list = value.split(',').map((item) => item.trim());
  if (list.some((item) => item === '')) throw refuse('INVALID_PARAMETER', `${name}: an empty value`, name);
  return list;
}

/** A token item in any FHIR form: `value`, `system|value`, `|value`, `system|`. */
export function tokenOf(item: string, name: string): AuditToken {
  const bar = item.indexOf('|');
  if (bar < 0) return { value: item };
  const system = item.slice(0, bar);
  const value = item.slice(bar + 1);
  if (value.includes('|') || (system === '' && value === '')) {
    throw refuse('INVALID_PARAMETER', `${name}: '${item}' is not a token (system|value)`, name);
  }
  return { system, ...(value === '' ? {} : { value }) };
}

/** A coded item of a column (`code` or `system|code` in `system`): its code. */
function codeOf(item: string, name: string, system: string | undefined, allowed: readonly string[]): string {
  const token = tokenOf(item, name);
  const code = token.value ?? '';
  if (
    (token.system !== undefined && system !== undefined && token.system !== system) ||
    !allowed.includes(code)
  ) {
    throw refuse('INVALID_PARAMETER', `${name} must be one of ${allowed.join(', ')}`, name);
  }
  return code;
}

function once(req: Request, name: string): string | undefined {
  const list = values(req, name);
  if (list.length > 1)
    throw refuse('INVALID_PARAMETER', `${name} may be given once (commas give alternatives)`, name);
  return list[0];
}

/** What the ITI-81 criteria add to the query, and the patient the search concerns (if one). */
export interface Iti81Criteria {
  query: Pick<
    AuditQuery,
    'patientNhs' | 'requesterOds' | 'clientId' | 'subtypes' | 'outcomes' | 'actions' | 'recorded'
  >;
  patient: string | undefined;
  used: [string, string][];
}

/**
 * Reads the ITI-81 parameters: the entity identifier (any identifier an entity records: the
 * X-Request-Id, a pointer's master identifier, the NHS number) and reference, the patient,
 * agent (reference and identifier), agent-name, address, source, site, type, subtype, action
 * and outcome. Throws 400 `INVALID_PARAMETER` naming the parameter.
 */
export function readIti81(req: Request): Iti81Criteria {
  const used: [string, string][] = [];
  const recorded: AuditJsonMatch[][] = [];
  const query: Iti81Criteria['query'] = {};
  const patients = new Set<string>();
  const each = (name: string, read: (value: string) => void) => {
    for (const value of values(req, name)) {
      read(value);
      used.push([name, value]);
    }
  };

  for (const name of ENTITY_IDENTIFIER_KEYS) {
    each(name, (value) => {
      const tokens = items(value, name).map((item) => tokenOf(item, name));
      for (const token of tokens) {
        if (
          token.system === NHS_NUMBER_SYSTEM &&
          token.value !== undefined &&
          !isValidNhsNumber(token.value)
        ) {
          throw refuse('INVALID_PARAMETER', `${name}: not a valid NHS number`, name);
        }
      }
      const [only] = tokens;
      const nhs =
        tokens.length === 1 && only?.value !== undefined && isValidNhsNumber(only.value)
          ? only.system === NHS_NUMBER_SYSTEM || only.system === undefined
          : false;
      if (nhs && only?.value) patients.add(only.value);
      recorded.push(tokens.map((token) => ({ on: 'entity-identifier', token })));
    });
  }
  each('entity', (value) =>
    recorded.push(items(value, 'entity').map((reference) => ({ on: 'entity-reference', reference }))),
  );
  for (const name of PATIENT_IDENTIFIER_KEYS) {
    each(name, (value) => {
      const token = tokenOf(value, name);
      if (
        (token.system !== undefined && token.system !== NHS_NUMBER_SYSTEM) ||
        !isValidNhsNumber(token.value ?? '')
      ) {
        throw refuse(
          'INVALID_PARAMETER',
          `${name} must be a valid NHS number (${NHS_NUMBER_SYSTEM}|<nhs number>)`,
          name,
        );
      }
      patients.add(token.value ?? '');
    });
  }
  each('patient', (value) =>
    recorded.push(items(value, 'patient').map((reference) => ({ on: 'entity-reference', reference }))),
  );
  for (const name of ['agent:identifier', 'agent.identifier']) {
    const value = once(req, name);
    if (value === undefined) continue;
    const { system, value: id = '' } = tokenOf(value, name);
    if (system === NIR_CLIENT_ID_SYSTEM && id !== '') query.clientId = id;
    else if ((system === undefined || system === ODS_SYSTEM) && isOdsCodeShape(id)) query.requesterOds = id;
    else {
      throw refuse(
        'INVALID_PARAMETER',
        `${name} must be ${ODS_SYSTEM}|<ODS code> or ${NIR_CLIENT_ID_SYSTEM}|<client id>`,
        name,
      );
    }
    used.push([name, value]);
  }
  each('agent', (value) =>
    recorded.push(items(value, 'agent').map((reference) => ({ on: 'agent-reference', reference }))),
  );
  const strings = (param: 'agent-name' | 'address') => {
    for (const [suffix, mode] of [
      ['', 'starts'],
      [':exact', 'exact'],
      [':contains', 'contains'],
    ] as const) {
      each(`${param}${suffix}`, (value) =>
        recorded.push(
          items(value, param).map((text) => ({
            on: param,
            match: { value: text, mode } as AuditStringMatch,
          })),
        ),
      );
    }
  };
  strings('agent-name');
  strings('address');
  each('source', (value) =>
    recorded.push(items(value, 'source').map((reference) => ({ on: 'source-reference', reference }))),
  );
  each('source:identifier', (value) =>
    recorded.push(
      items(value, 'source:identifier').map((item) => ({
        on: 'source-identifier',
        token: tokenOf(item, 'source:identifier'),
      })),
    ),
  );
  each('site', (value) => recorded.push(items(value, 'site').map((site) => ({ on: 'site', value: site }))));
  each('type', (value) =>
    recorded.push(items(value, 'type').map((item) => ({ on: 'type', token: tokenOf(item, 'type') }))),
  );

  const subtype = once(req, 'subtype');
  if (subtype !== undefined) {
    query.subtypes = items(subtype, 'subtype').map((item) => {
      const code = tokenOf(item, 'subtype').value ?? '';
      if (!/^[A-Za-z0-9-]{1,64}$/.test(code))
        throw refuse('INVALID_PARAMETER', 'subtype is not a code', 'subtype');
      return code;
    });
    used.push(['subtype', subtype]);
  }
  const action = once(req, 'action');
  if (action !== undefined) {
    query.actions = items(action, 'action').map((item) => codeOf(item, 'action', ACTION_SYSTEM, ACTIONS));
    used.push(['action', action]);
  }
  const outcome = once(req, 'outcome');
  if (outcome !== undefined) {
    query.outcomes = items(outcome, 'outcome').map(
      (item) => codeOf(item, 'outcome', OUTCOME_SYSTEM, AUDIT_OUTCOMES) as AuditOutcome,
    );
    used.push(['outcome', outcome]);
  }

  if (patients.size === 1) query.patientNhs = [...patients][0];
  if (patients.size > 1)
    query.recorded = [...recorded, []]; // two different patients: nothing matches
  else if (recorded.length > 0) query.recorded = recorded;
  return { query, patient: patients.size === 1 ? [...patients][0] : undefined, used };
}
