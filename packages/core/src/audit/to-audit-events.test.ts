import type { AuditEvent, AuditEventAgent } from '@medplum/fhirtypes';
import { describe, expect, it } from 'vitest';
import { NHS_NUMBER_SYSTEM } from '../nhs-number.ts';
import { ODS_SYSTEM } from '../ods.ts';
import { ACT_REASON_SYSTEM } from '../purpose-of-use.ts';
import {
  BALP_PROFILE_PREFIX,
  DCM_SYSTEM,
  IHE_EVENT_TYPE_SYSTEM,
  JTI_PREFIX,
  NIR_AUDIT_SUBTYPE_SYSTEM,
  NIR_CLIENT_ID_SYSTEM,
  PARS_ASID_SYSTEM,
  PARS_PROFILE,
  RESTFUL_INTERACTION_SYSTEM,
  TRANSACTION_ID_SYSTEM,
} from './codes.ts';
import { auditFacts } from './facts.ts';
import { type AuditKind, type AuditRecord, INTERACTION_KINDS, kindForMethod } from './record.ts';
import { toAuditEvents } from './to-audit-events.ts';
import { uuidv7Time } from './uuidv7.ts';

const PATIENT_A = '9000000009';
const PATIENT_B = '9434765919';

function record(overrides: Partial<AuditRecord> = {}): AuditRecord {
  return {
    recorded: '2026-11-28T10:15:30.123Z',
    requestId: 'req-1',
    correlationId: 'corr-1',
    kind: INTERACTION_KINDS.search,
    status: 200,
    client: { clientId: 'demo-consumer', name: 'DEMO EPR of RWY', verified: true },
    requester: { ods: 'RWY', name: 'DEMO Calderdale', verified: true },
    user: {
      id: '555000000001',
      name: 'Dr Alex Example',
      role: [{ system: 'https://fhir.nhs.uk/CodeSystem/NHSDigital-SDS-JobRoleCode', code: 'R8000' }],
      purposeOfUse: [{ system: ACT_REASON_SYSTEM, code: 'TREAT' }],
    },
    tokenId: 'tok-1',
    callerIp: '10.1.2.3',
    serverUrl: 'https://nir.example/consumer/FHIR/R4',
    patients: [PATIENT_A],
    pointers: [],
    custodians: [],
    query: { raw: 'GET /consumer/FHIR/R4/DocumentReference?subject:identifier=x', description: 'GET ...' },
    ...overrides,
  };
}

const one = (r: AuditRecord): AuditEvent => {
  const events = toAuditEvents(r);
  expect(events).toHaveLength(1);
  return events[0] as AuditEvent;
};

const agentOfType = (event: AuditEvent, code: string): AuditEventAgent | undefined =>
  event.agent.find((a) => a.type?.coding?.[0]?.code === code);

describe('toAuditEvents: interactions (BALP §3.2)', () => {
  const cases: [string, AuditKind, string, string, string, string][] = [
    // label, kind, type code, action, client agent type, server agent type
    ['create', INTERACTION_KINDS.create, 'rest', 'C', '110153', '110152'],
    ['read', INTERACTION_KINDS.read, 'rest', 'R', '110152', '110153'],
    ['update', INTERACTION_KINDS.update, 'rest', 'U', '110153', '110152'],
    ['upsert', INTERACTION_KINDS.upsert, 'rest', 'U', '110153', '110152'],
    ['delete', INTERACTION_KINDS.delete, 'rest', 'D', '110150', 'custodian'],
    ['search', INTERACTION_KINDS.search, 'rest', 'E', '110153', '110152'],
    ['count', INTERACTION_KINDS.count, 'rest', 'E', '110153', '110152'],
    ['ITI-65 transaction', INTERACTION_KINDS.transaction, '110107', 'C', '110153', '110152'],
    ['history', INTERACTION_KINDS.history, 'rest', 'R', '110152', '110153'],
    ['audit search', INTERACTION_KINDS['audit-search'], 'rest', 'E', '110153', '110152'],
    [
      'audit export',
      { ...INTERACTION_KINDS['audit-export'], eventType: 'export' },
      '110106',
      'R',
      '110152',
      '110153',
    ],
    ['token issue', { subtype: 'token-issue', action: 'E' }, '110114', 'E', '110153', '110152'],
    ['catalogue change', { subtype: 'catalogue-change', action: 'U' }, 'rest', 'U', '110153', '110152'],
  ];

  it.each(cases)(
    '%s: type, subtype, action and agent types',
    (_label, kind, type, action, client, server) => {
      const event = one(record({ kind }));
      expect(event.type.code).toBe(type);
      expect(event.action).toBe(action);
      expect(event.subtype?.[0]?.code).toBe(kind.subtype);
      expect(event.subtype?.[0]?.system).toBe(
        ['token-issue', 'catalogue-change'].includes(kind.subtype)
          ? NIR_AUDIT_SUBTYPE_SYSTEM
          : RESTFUL_INTERACTION_SYSTEM,
      );
      if (kind.iheTransaction) {
        expect(event.subtype?.[1]).toMatchObject({
          system: IHE_EVENT_TYPE_SYSTEM,
          code: kind.iheTransaction,
        });
      } else {
        expect(event.subtype).toHaveLength(1);
      }
      const [clientAgent, serverAgent] = event.agent;
      expect(clientAgent?.type?.coding?.[0]?.code).toBe(client);
      expect(serverAgent?.type?.coding?.[0]?.code).toBe(server);
      expect(serverAgent?.requestor).toBe(false);
    },
  );

  it('the user is an information recipient on reads and queries, an author on writes', () => {
    expect(agentOfType(one(record({ kind: INTERACTION_KINDS.read })), 'IRCP')?.requestor).toBe(true);
    expect(agentOfType(one(record({ kind: INTERACTION_KINDS.search })), 'IRCP')).toBeDefined();
    expect(agentOfType(one(record({ kind: INTERACTION_KINDS.create })), 'AUT')).toBeDefined();
    expect(agentOfType(one(record({ kind: INTERACTION_KINDS.delete })), 'AUT')).toBeDefined();
  });

  it('kindForMethod gives a best-effort kind for refusals', () => {
    expect(kindForMethod('GET')).toEqual({ subtype: 'read', action: 'R' });
    expect(kindForMethod('post')).toEqual({ subtype: 'create', action: 'C' });
    expect(kindForMethod('PUT').action).toBe('U');
    expect(kindForMethod('PATCH').subtype).toBe('patch');
    expect(kindForMethod('DELETE').action).toBe('D');
  });
});

describe('toAuditEvents: PARS agents and entities', () => {
  it('names the client system, the server, the user with role and purpose, and the requesting organisation', () => {
    const event = one(record());
    const [client, server] = event.agent;
    expect(client?.who).toEqual({
      identifier: { system: NIR_CLIENT_ID_SYSTEM, value: 'demo-consumer' },
      type: 'Device',
      display: 'DEMO EPR of RWY',
    });
    expect(client?.network).toEqual({ address: '10.1.2.3', type: '2' });
    expect(server?.who?.identifier?.value).toBe('https://nir.example/consumer/FHIR/R4');
    expect(server?.network).toEqual({ address: 'https://nir.example/consumer/FHIR/R4', type: '5' });
    const user = agentOfType(event, 'IRCP');
    expect(user?.who?.identifier?.value).toBe('555000000001');
    expect(user?.who?.type).toBe('Practitioner');
    expect(user?.name).toBe('Dr Alex Example');
    expect(user?.role?.[0]?.coding?.[0]?.code).toBe('R8000');
    expect(user?.purposeOfUse?.[0]?.coding?.[0]?.code).toBe('TREAT');
    expect(user?.policy).toEqual([`${JTI_PREFIX}tok-1`]);
    const org = agentOfType(event, 'PROV');
    expect(org?.who?.identifier).toEqual({ system: ODS_SYSTEM, value: 'RWY' });
    expect(org?.requestor).toBe(true);
    expect(event.purposeOfEvent?.[0]?.coding?.[0]?.code).toBe('TREAT');
    expect(event.source.site).toBe('https://nir.example/consumer/FHIR/R4');
    expect(event.source.type?.[0]?.code).toBe('4');
  });

  it('has the patient, the X-Request-Id (with the correlation id) and the query as base64 plus a description', () => {
    const event = one(record());
    const patient = event.entity?.find((e) => e.role?.code === '1');
    expect(patient?.what?.identifier).toEqual({ system: NHS_NUMBER_SYSTEM, value: PATIENT_A });
    expect(patient?.type?.code).toBe('1');
    const transaction = event.entity?.find((e) => e.type?.code === 'XrequestId');
    expect(transaction?.what?.identifier).toEqual({ system: TRANSACTION_ID_SYSTEM, value: 'req-1' });
    expect(transaction?.detail).toEqual([{ type: 'X-Correlation-Id', valueString: 'corr-1' }]);
    const query = event.entity?.find((e) => e.role?.code === '24');
    expect(Buffer.from(query?.query ?? '', 'base64').toString()).toBe(
      'GET /consumer/FHIR/R4/DocumentReference?subject:identifier=x',
    );
    expect(query?.description).toBe('GET ...');
  });

  it('R10: a write names each pointer with its versions before and after, and its custodian', () => {
    const event = one(
      record({
        kind: INTERACTION_KINDS.update,
        query: undefined,
        pointers: [
          { id: 'RR8-abc', custodian: 'RR8', nhsNumber: PATIENT_A, versionBefore: 1, versionAfter: 2 },
        ],
      }),
    );
    const pointer = event.entity?.find((e) => e.what?.type === 'DocumentReference');
    expect(pointer?.what?.reference).toBe('DocumentReference/RR8-abc/_history/2');
    expect(pointer?.detail).toEqual([
      { type: 'versionBefore', valueString: '1' },
      { type: 'versionAfter', valueString: '2' },
    ]);
    const custodian = event.entity?.find((e) => e.type?.code === 'Organization');
    expect(custodian?.what?.identifier).toEqual({ system: ODS_SYSTEM, value: 'RR8' });
    expect(custodian?.role?.code).toBe('17');
    expect(auditFacts(event).custodianOds).toEqual(['RR8']);
  });

  it('a failed write keeps the version before but claims no version after', () => {
    const event = one(
      record({
        kind: INTERACTION_KINDS.update,
        status: 409,
        failure: { code: 'CONFLICT' },
        pointers: [{ id: 'RR8-abc', custodian: 'RR8', versionBefore: 1, versionAfter: 2 }],
      }),
    );
    const pointer = event.entity?.find((e) => e.what?.type === 'DocumentReference');
    expect(pointer?.what?.reference).toBe('DocumentReference/RR8-abc');
    expect(pointer?.detail).toEqual([{ type: 'versionBefore', valueString: '1' }]);
  });

  it('ITI-65: the SubmissionSet is a Job entity', () => {
    const event = one(record({ kind: INTERACTION_KINDS.transaction, submissionSetId: 'urn:oid:1.2.3' }));
    const set = event.entity?.find((e) => e.role?.code === '20');
    expect(set?.what?.identifier?.value).toBe('urn:oid:1.2.3');
    expect(set?.what?.type).toBe('List');
  });

  it('token issue: the issued token id and scope, never the token', () => {
    const event = one(
      record({
        kind: { subtype: 'token-issue', action: 'E' },
        patients: [],
        query: undefined,
        issuedToken: { jti: 'new-jti', scope: 'system/DocumentReference.rs' },
      }),
    );
    const token = event.entity?.find((e) => e.role?.code === '13');
    expect(token?.what?.identifier?.value).toBe(`${JTI_PREFIX}new-jti`);
    expect(token?.description).toContain('system/DocumentReference.rs');
  });

  it('search results are never copied in: only the custodians of disclosed pointers', () => {
    const event = one(record({ custodians: ['RR8', 'RAE', 'RR8'] }));
    expect(event.entity?.filter((e) => e.what?.type === 'DocumentReference')).toHaveLength(0);
    expect(auditFacts(event).custodianOds).toEqual(['RR8', 'RAE']);
  });
});

describe('toAuditEvents: one event per patient', () => {
  it('splits a record over two patients, each event with that patient’s pointers only', () => {
    const events = toAuditEvents(
      record({
        patients: [PATIENT_A],
        pointers: [
          { id: 'p1', custodian: 'RR8', nhsNumber: PATIENT_A },
          { id: 'p2', custodian: 'RAE', nhsNumber: PATIENT_B },
        ],
      }),
    );
    expect(events).toHaveLength(2);
    const facts = events.map(auditFacts);
    expect(facts.map((f) => f.patientNhs)).toEqual([PATIENT_A, PATIENT_B]);
    expect(facts.map((f) => f.custodianOds)).toEqual([['RR8'], ['RAE']]);
    expect(new Set(facts.map((f) => f.id)).size).toBe(2);
    expect(facts.every((f) => f.requestId === 'req-1')).toBe(true);
  });

  it('records one event without a patient when none is involved', () => {
    const [event] = toAuditEvents(record({ patients: [] }));
    expect(event?.entity?.some((e) => e.role?.code === '1')).toBe(false);
    expect(event && auditFacts(event).patientNhs).toBeNull();
  });

  it('dedupes patients', () => {
    expect(toAuditEvents(record({ patients: [PATIENT_A, PATIENT_A] }))).toHaveLength(1);
  });
});

describe('toAuditEvents: outcomes and refusals', () => {
  it.each([
    [200, '0'],
    [201, '0'],
    [304, '0'],
    [400, '4'],
    [401, '4'],
    [403, '4'],
    [404, '4'],
    [500, '8'],
    [503, '12'],
  ])('HTTP %i is BALP outcome %s', (status, outcome) => {
    expect(one(record({ status })).outcome).toBe(outcome);
  });

  it('puts the error code and diagnostics in outcomeDesc, never a contained OperationOutcome', () => {
    const event = one(
      record({
        status: 403,
        failure: { code: 'ACCESS DENIED', diagnostics: 'Access is for direct care only' },
      }),
    );
    expect(event.outcomeDesc).toBe('ACCESS DENIED: Access is for direct care only');
    expect(event.contained).toBeUndefined();
    expect(JSON.stringify(event)).not.toContain('OperationOutcome');
  });

  it('a successful event claims its BALP profile; a failure claims none', () => {
    expect(one(record()).meta?.profile).toEqual([
      'https://profiles.ihe.net/ITI/MHD/StructureDefinition/IHE.MHD.FindDocumentReferences.Audit.Responder',
    ]);
    expect(one(record({ kind: INTERACTION_KINDS.read })).meta?.profile).toEqual([
      `${BALP_PROFILE_PREFIX}PatientRead`,
    ]);
    expect(one(record({ kind: INTERACTION_KINDS.read, patients: [] })).meta?.profile).toEqual([
      `${BALP_PROFILE_PREFIX}Read`,
    ]);
    expect(one(record({ status: 401 })).meta).toBeUndefined();
  });

  it('claims PARS, with the ASID as observer, when the registry has an ASID', () => {
    const event = one(record({ serverAsid: '200000001234' }));
    expect(event.meta?.profile).toContain(PARS_PROFILE);
    expect(event.source.observer.identifier).toEqual({ system: PARS_ASID_SYSTEM, value: '200000001234' });
  });

  it('names a claimed but unverified client and organisation only in display, and no one is the requester', () => {
    const event = one(
      record({
        status: 401,
        failure: { code: 'ACCESS_DENIED' },
        client: { clientId: 'demo-consumer', verified: false },
        requester: { ods: 'RR8', verified: false },
        user: undefined,
        tokenId: undefined,
      }),
    );
    const [client] = event.agent;
    expect(client?.who?.identifier).toBeUndefined();
    expect(client?.who?.display).toContain('demo-consumer');
    const org = agentOfType(event, 'PROV');
    expect(org?.requestor).toBe(false);
    expect(org?.who?.identifier).toBeUndefined();
    const facts = auditFacts(event);
    expect(facts.clientId).toBeNull();
    expect(facts.requesterOds).toBeNull();
  });

  it('an anonymous caller is still a client agent with its network address, and is the requestor', () => {
    const event = one(record({ client: undefined, requester: undefined, user: undefined, status: 401 }));
    expect(event.agent[0]?.who?.display).toMatch(/Unidentified client/);
    expect(event.agent[0]?.network?.address).toBe('10.1.2.3');
    expect(event.agent[0]?.requestor).toBe(true);
  });

  it('records the DICOM event type codes in the DCM system', () => {
    expect(one(record({ kind: INTERACTION_KINDS.transaction })).type.system).toBe(DCM_SYSTEM);
  });
});

describe('toAuditEvents: ids and time', () => {
  it('ids are UUIDv7 of the recorded time; recorded is normalised to an ISO instant', () => {
    const event = one(record({ recorded: '2026-11-28T10:15:30.123+00:00' }));
    expect(event.recorded).toBe('2026-11-28T10:15:30.123Z');
    expect(uuidv7Time(event.id ?? '')).toBe(Date.parse('2026-11-28T10:15:30.123Z'));
  });

  it('uses the id source it is given', () => {
    expect(one(record({}))).toBeDefined();
    const [event] = toAuditEvents(record(), { newId: (ms) => `id-${ms}` });
    expect(event?.id).toBe(`id-${Date.parse('2026-11-28T10:15:30.123Z')}`);
  });

  it('refuses a record without a valid time', () => {
    expect(() => toAuditEvents(record({ recorded: 'yesterday' }))).toThrow(RangeError);
  });
});

describe('auditFacts', () => {
  it('reads every column back from the event', () => {
    const [event] = toAuditEvents(
      record({ pointers: [{ id: 'p1', custodian: 'RR8', nhsNumber: PATIENT_A }], custodians: ['RAE'] }),
    );
    if (!event) throw new Error('no event');
    expect(auditFacts(event)).toEqual({
      id: event.id,
      recorded: '2026-11-28T10:15:30.123Z',
      requestId: 'req-1',
      subtype: 'search-type',
      iheTransaction: 'ITI-67',
      action: 'E',
      outcome: '0',
      clientId: 'demo-consumer',
      requesterOds: 'RWY',
      custodianOds: ['RAE', 'RR8'],
      patientNhs: PATIENT_A,
    });
  });

  it('refuses an event without id, action, outcome or subtype', () => {
    const [event] = toAuditEvents(record());
    if (!event) throw new Error('no event');
    expect(() => auditFacts({ ...event, id: undefined })).toThrow(/id/);
    expect(() => auditFacts({ ...event, action: undefined })).toThrow(/action/);
    expect(() => auditFacts({ ...event, outcome: undefined })).toThrow(/outcome/);
    expect(() => auditFacts({ ...event, subtype: [] })).toThrow(/subtype/);
  });
});
