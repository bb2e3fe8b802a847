/**
 * R7–R10: every interaction is audited durably, in BALP/PARS shape, and shared back. A mixed
 * workload — tokens, catalogue administration, consumer and producer calls, the audit API
 * itself, successes and refusals (401, 403, 400) — then proof that every request id has
 * exactly one AuditEvent with the right agents and entities, and that each organisation sees
 * exactly its own share through the audit API.
 */
import type { AuditEvent, Bundle } from '@medplum/fhirtypes';
import { demoUserClaims } from '@nir/cli';
import {
  ACT_REASON_SYSTEM,
  auditFacts,
  JTI_PREFIX,
  NHS_NUMBER_SYSTEM,
  NIR_CLIENT_ID_SYSTEM,
  ODS_SYSTEM,
  TRANSACTION_ID_SYSTEM,
} from '@nir/core';
import { type ApiModule, auditOf, type Principal, runAuditRetention, sendFhir } from '@nir/server';
import { AuditStore, type Store } from '@nir/store';
import { testBackends } from '@nir/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { clinicalHeaders, errorCode, startTestRegistry, type TestRegistry } from './support/harness.ts';
import { validPointer } from './support/pointers.ts';

const backends = await testBackends();

const PATIENT_A = '9000000009';
const PATIENT_B = '9278693472';
const AUDIT_ORGS = ['RR8', 'RAE', 'RWY', 'X26'] as const;
const BASE = '/audit/FHIR/R4';

/** What one request of the workload must have left in the audit trail. */
interface Expected {
  requestId: string;
  label: string;
  subtype: string;
  action: string;
  outcome: string;
  /** The verified requesting organisation (who sees it as requester), or null. */
  requester: string | null;
  clientId: string | null;
  patient?: string | null;
  custodians?: string[];
  /** Organisations that see the event through the audit API. */
  visibleTo: string[];
}

let currentStore: Store | undefined;

/** The consumer API search (ITI-67) for a patient: names the patient and the custodians of what it discloses. */
const CONSUMER_SEARCH = '/consumer/FHIR/R4/DocumentReference';
const consumerSearch = (nhs: string) => `${CONSUMER_SEARCH}?subject:identifier=${NHS_NUMBER_SYSTEM}|${nhs}`;

/** A write stand-in: records its audit inside its transaction, then commits or fails. */
const writeProbe: ApiModule = ({ router, guard }) => {
  router.post(
    '/$audit-test-write',
    guard({ role: 'producer', interaction: 'create', clinical: true }),
    async (req, res) => {
      const principal = res.locals.principal as Principal;
      const audit = auditOf(res);
      const id = `${principal.odsCode}-probe-${crypto.randomUUID()}`;
      audit.pointer({ id, custodian: principal.odsCode, nhsNumber: PATIENT_B, versionAfter: 1 });
      if (!currentStore) throw new Error('no store');
      await currentStore.db.transaction().execute(async (trx) => {
        await audit.recordWithin(trx, 201);
        if (req.query.fail === 'true') throw new Error('the write failed after recording its audit');
      });
      sendFhir(res, 201, { id });
    },
  );
};

describe.each(backends)('audit trail on $name', (backend) => {
  let t: TestRegistry;
  let store: Store;
  let started: string;
  const expected: Expected[] = [];
  const tokens: Record<string, string> = {};
  /** The pointer the workload publishes, reads, updates and deletes. */
  const published = { pointerId: '', master: '' };

  const auditToken = async (ods: string) => {
    tokens[`audit-${ods}`] ??= await t.token('demo-audit', { iua: demoUserClaims(ods) });
    return tokens[`audit-${ods}`] as string;
  };

  const range = () => {
    const to = new Date(Date.now() + 60_000).toISOString();
    return `date=ge${encodeURIComponent(started)}&date=lt${encodeURIComponent(to)}`;
  };

  /** Every event visible to `ods` in the run, following `next` links. */
  async function visible(ods: string, extra = ''): Promise<AuditEvent[]> {
    const token = await auditToken(ods);
    const events: AuditEvent[] = [];
    let url: string | undefined = `${t.url}${BASE}/AuditEvent?${range()}&_count=200${extra}`;
    while (url) {
      const response = await fetch(url, { headers: clinicalHeaders(token, ods) });
      expect(response.status).toBe(200);
      const bundle = (await response.json()) as Bundle<AuditEvent>;
      events.push(...(bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : [])));
      url = bundle.link?.find((l) => l.relation === 'next')?.url;
    }
    return events;
  }

  /** Every stored event of the run (what the operator sees). */
  async function storedEvents(): Promise<AuditEvent[]> {
    const rows = await store.db
      .selectFrom('audit_event')
      .select('resource')
      .where('recorded', '>=', started)
      .execute();
    return rows.map((r) => r.resource as AuditEvent);
  }

  beforeAll(async () => {
    store = await backend.open();
    currentStore = store;
    t = await startTestRegistry(store, {
      modules: { producer: [writeProbe] },
      registry: {
        custody: async (ods, nhs) => ods === 'RR8' && nhs === PATIENT_A,
        auditExportTiming: { settleMs: 1000 },
      },
    });
    // The demo IG tool acts for four organisations, each with an audit grant.
    const client = await t.registry.catalogue.getClient('demo-audit');
    if (!client) throw new Error('demo-audit missing');
    await t.registry.catalogue.putClient({ ...client, organisations: [...AUDIT_ORGS] }, 'test', {
      demo: true,
    });
    for (const ods of ['RAE', 'RWY', 'X26']) {
      await t.registry.catalogue.putGrant(
        {
          odsCode: ods,
          role: 'audit',
          pointerTypes: [],
          interactions: ['audit-search', 'audit-export'],
          accessControls: [],
        },
        'test',
      );
    }
    started = new Date(Date.now() - 1000).toISOString();
  });
  afterAll(async () => {
    await t.close();
  });

  const expect1 = (entry: Expected) => expected.push(entry);

  /**
   * The mixed workload, run once per backend by whichever test needs it first: each test that
   * reads its audit trail awaits it, so that every test also runs and checks alone (`-t`).
   */
  let workload: Promise<void> | undefined;
  const ranWorkload = () => {
    workload ??= runWorkload();
    return workload;
  };

  async function runWorkload(): Promise<void> {
    const jwt = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
    const tokenRequest = async (requestId: string, clientId: string, extra: Record<string, string> = {}) =>
      t.requestToken(
        {
          grant_type: 'client_credentials',
          client_assertion_type: jwt,
          client_assertion: await t.assertion(clientId),
          ...extra,
        },
        { 'x-request-id': requestId },
      );

    // Token endpoint.
    let response = await tokenRequest('w-token-consumer', 'demo-consumer');
    expect(response.status).toBe(200);
    const consumer = ((await response.json()) as { access_token: string }).access_token;
    expect1({
      requestId: 'w-token-consumer',
      label: 'token issued',
      subtype: 'token-issue',
      action: 'E',
      outcome: '0',
      requester: 'RWY',
      clientId: 'demo-consumer',
      visibleTo: ['RWY'],
    });
    response = await tokenRequest('w-token-provider', 'demo-provider-a');
    const provider = ((await response.json()) as { access_token: string }).access_token;
    expect1({
      requestId: 'w-token-provider',
      label: 'token issued',
      subtype: 'token-issue',
      action: 'E',
      outcome: '0',
      requester: 'RR8',
      clientId: 'demo-provider-a',
      visibleTo: ['RR8'],
    });
    response = await t.requestToken(
      {
        grant_type: 'client_credentials',
        client_assertion_type: jwt,
        client_assertion: `${await t.assertion('demo-consumer')}x`,
      },
      { 'x-request-id': 'w-token-forged' },
    );
    expect(response.status).toBe(401);
    expect1({
      requestId: 'w-token-forged',
      label: 'forged assertion',
      subtype: 'token-issue',
      action: 'E',
      outcome: '4',
      requester: null,
      clientId: null,
      visibleTo: [],
    });
    response = await tokenRequest('w-token-scope', 'demo-consumer', { scope: 'system/AuditEvent.rs' });
    expect(response.status).toBe(400);
    expect1({
      requestId: 'w-token-scope',
      label: 'scope refused',
      subtype: 'token-issue',
      action: 'E',
      outcome: '4',
      requester: 'RWY',
      clientId: 'demo-consumer',
      visibleTo: ['RWY'],
    });

    // Catalogue administration.
    const admin = {
      authorization: `Bearer ${await t.token('demo-admin')}`,
      'content-type': 'application/json',
    };
    response = await t.fetch('/admin/organisations', {
      headers: { ...admin, 'x-request-id': 'w-admin-list' },
    });
    expect(response.status).toBe(200);
    expect1({
      requestId: 'w-admin-list',
      label: 'catalogue read',
      subtype: 'catalogue-read',
      action: 'E',
      outcome: '0',
      requester: 'X26',
      clientId: 'demo-admin',
      visibleTo: ['X26'],
    });
    response = await t.fetch('/admin/organisations/RXF', {
      method: 'PUT',
      headers: { ...admin, 'x-request-id': 'w-admin-put' },
      body: JSON.stringify({ name: 'Mid Yorkshire', status: 'active' }),
    });
    expect(response.status).toBe(201);
    expect1({
      requestId: 'w-admin-put',
      label: 'catalogue change',
      subtype: 'catalogue-change',
      action: 'C',
      outcome: '0',
      requester: 'X26',
      clientId: 'demo-admin',
      visibleTo: ['X26'],
    });
    response = await t.fetch('/admin/organisations', {
      headers: { authorization: `Bearer ${consumer}`, 'x-request-id': 'w-admin-403' },
    });
    expect(response.status).toBe(403);
    expect1({
      requestId: 'w-admin-403',
      label: 'admin refused',
      subtype: 'catalogue-read',
      action: 'E',
      outcome: '4',
      requester: 'RWY',
      clientId: 'demo-consumer',
      visibleTo: ['RWY'],
    });
    response = await t.fetch('/admin/organisations', { headers: { 'x-request-id': 'w-admin-401' } });
    expect(response.status).toBe(401);
    expect1({
      requestId: 'w-admin-401',
      label: 'admin anonymous',
      subtype: 'catalogue-read',
      action: 'E',
      outcome: '4',
      requester: null,
      clientId: null,
      visibleTo: [],
    });

    // Consumer (the real consumer API), over a pointer RR8 publishes for patient A first.
    response = await t.fetch('/producer/FHIR/R4/DocumentReference', {
      method: 'POST',
      headers: { ...clinicalHeaders(provider, 'RR8', 'w-seed'), 'content-type': 'application/fhir+json' },
      body: JSON.stringify(validPointer({ custodian: 'RR8', nhsNumber: PATIENT_A })),
    });
    expect(response.status).toBe(201);
    expect1({
      requestId: 'w-seed',
      label: 'pointer published for the consumer search',
      subtype: 'create',
      action: 'C',
      outcome: '0',
      requester: 'RR8',
      clientId: 'demo-provider-a',
      patient: PATIENT_A,
      custodians: ['RR8'],
      visibleTo: ['RR8'],
    });
    const search = (headers: Record<string, string>, nhs = PATIENT_A) =>
      t.fetch(consumerSearch(nhs), { headers });
    response = await search({
      ...clinicalHeaders(consumer, 'RWY', 'w-search'),
      'x-correlation-id': 'corr-w',
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as Bundle).total).toBe(1);
    expect1({
      requestId: 'w-search',
      label: 'consumer search',
      subtype: 'search-type',
      action: 'E',
      outcome: '0',
      requester: 'RWY',
      clientId: 'demo-consumer',
      patient: PATIENT_A,
      custodians: ['RR8'],
      visibleTo: ['RWY', 'RR8'],
    });
    const btg = demoUserClaims('RWY');
    btg.purpose_of_use = [{ system: ACT_REASON_SYSTEM, code: 'BTG' }];
    response = await search(
      clinicalHeaders(await t.token('demo-consumer', { iua: btg }), 'RWY', 'w-search-403'),
      PATIENT_B,
    );
    expect(response.status).toBe(403);
    expect1({
      requestId: 'w-search-403',
      label: 'purpose refused',
      subtype: 'search-type',
      action: 'E',
      outcome: '4',
      requester: 'RWY',
      clientId: 'demo-consumer',
      patient: PATIENT_B,
      custodians: [],
      visibleTo: ['RWY'],
    });
    response = await search(clinicalHeaders(`${consumer}x`, 'RWY', 'w-search-401'));
    expect(response.status).toBe(401);
    expect1({
      requestId: 'w-search-401',
      label: 'bad token',
      subtype: 'search-type',
      action: 'E',
      outcome: '4',
      requester: null,
      clientId: null,
      patient: PATIENT_A,
      visibleTo: [],
    });
    const noOds = clinicalHeaders(consumer, 'RWY', 'w-search-400');
    delete noOds['nhsd-end-user-organisation-ods'];
    response = await search(noOds);
    expect(response.status).toBe(400);
    expect1({
      requestId: 'w-search-400',
      label: 'no ODS header',
      subtype: 'search-type',
      action: 'E',
      outcome: '4',
      requester: 'RWY',
      clientId: 'demo-consumer',
      visibleTo: ['RWY'],
    });
    response = await search(clinicalHeaders(consumer, 'RR8', 'w-search-other-org'));
    expect(response.status).toBe(403);
    expect1({
      requestId: 'w-search-other-org',
      label: 'acting for an unregistered organisation',
      subtype: 'search-type',
      action: 'E',
      outcome: '4',
      requester: null,
      clientId: 'demo-consumer',
      visibleTo: [],
    });

    // Producer (the real provider API).
    response = await t.fetch('/producer/FHIR/R4/DocumentReference', {
      method: 'POST',
      headers: { ...clinicalHeaders(provider, 'RR8', 'w-create'), 'content-type': 'application/fhir+json' },
      body: JSON.stringify(validPointer({ custodian: 'RR8', nhsNumber: PATIENT_A })),
    });
    expect(response.status).toBe(201);
    const pointerId =
      (response.headers.get('location') ?? '').split('/DocumentReference/')[1]?.split('/')[0] ?? '';
    expect(pointerId).not.toBe('');
    expect1({
      requestId: 'w-create',
      label: 'pointer created',
      subtype: 'create',
      action: 'C',
      outcome: '0',
      requester: 'RR8',
      clientId: 'demo-provider-a',
      patient: PATIENT_A,
      custodians: ['RR8'],
      visibleTo: ['RR8'],
    });
    response = await t.fetch(`/producer/FHIR/R4/DocumentReference/${pointerId}`, {
      headers: clinicalHeaders(provider, 'RR8', 'w-read'),
    });
    expect(response.status).toBe(200);
    const pointer = (await response.json()) as Record<string, unknown>;
    const master = pointer.masterIdentifier as { system: string; value: string };
    Object.assign(published, { pointerId, master: `${master.system}|${master.value}` });
    expect1({
      requestId: 'w-read',
      label: 'pointer read',
      subtype: 'read',
      action: 'R',
      outcome: '0',
      requester: 'RR8',
      clientId: 'demo-provider-a',
      patient: PATIENT_A,
      custodians: ['RR8'],
      visibleTo: ['RR8'],
    });
    response = await t.fetch(`/producer/FHIR/R4/DocumentReference/${pointerId}`, {
      method: 'PUT',
      headers: { ...clinicalHeaders(provider, 'RR8', 'w-update'), 'content-type': 'application/fhir+json' },
      body: JSON.stringify({ ...pointer, description: 'amended' }),
    });
    expect(response.status).toBe(200);
    expect1({
      requestId: 'w-update',
      label: 'pointer updated',
      subtype: 'update',
      action: 'U',
      outcome: '0',
      requester: 'RR8',
      clientId: 'demo-provider-a',
      patient: PATIENT_A,
      custodians: ['RR8'],
      visibleTo: ['RR8'],
    });
    response = await t.fetch(`/producer/FHIR/R4/DocumentReference/${pointerId}`, {
      method: 'DELETE',
      headers: clinicalHeaders(provider, 'RR8', 'w-delete'),
    });
    expect(response.status).toBe(200);
    expect1({
      requestId: 'w-delete',
      label: 'pointer deleted',
      subtype: 'delete',
      action: 'D',
      outcome: '0',
      requester: 'RR8',
      clientId: 'demo-provider-a',
      patient: PATIENT_A,
      custodians: ['RR8'],
      visibleTo: ['RR8'],
    });

    // Writes recording their audit in their own transaction: committed, and rolled back.
    response = await t.fetch('/producer/FHIR/R4/$audit-test-write', {
      method: 'POST',
      headers: clinicalHeaders(provider, 'RR8', 'w-write-ok'),
    });
    expect(response.status).toBe(201);
    expect1({
      requestId: 'w-write-ok',
      label: 'write committed with its audit',
      subtype: 'create',
      action: 'C',
      outcome: '0',
      requester: 'RR8',
      clientId: 'demo-provider-a',
      patient: PATIENT_B,
      custodians: ['RR8'],
      visibleTo: ['RR8'],
    });
    response = await t.fetch('/producer/FHIR/R4/$audit-test-write?fail=true', {
      method: 'POST',
      headers: clinicalHeaders(provider, 'RR8', 'w-write-rollback'),
    });
    expect(response.status).toBe(500);
    expect1({
      requestId: 'w-write-rollback',
      label: 'write rolled back',
      subtype: 'create',
      action: 'C',
      outcome: '8',
      requester: 'RR8',
      clientId: 'demo-provider-a',
      patient: PATIENT_B,
      custodians: ['RR8'],
      visibleTo: ['RR8'],
    });

    // The audit API itself.
    const rr8 = await auditToken('RR8');
    response = await t.fetch(`${BASE}/AuditEvent?${range()}&_count=1`, {
      headers: clinicalHeaders(rr8, 'RR8', 'w-audit-search'),
    });
    expect(response.status).toBe(200);
    expect1({
      requestId: 'w-audit-search',
      label: 'audit search',
      subtype: 'search-type',
      action: 'E',
      outcome: '0',
      requester: 'RR8',
      clientId: 'demo-audit',
      visibleTo: ['RR8'],
    });
    response = await t.fetch(`${BASE}/AuditEvent`, {
      headers: clinicalHeaders(rr8, 'RR8', 'w-audit-nodate'),
    });
    expect(response.status).toBe(400);
    expect(errorCode(await response.json())).toBe('INVALID_PARAMETER');
    expect1({
      requestId: 'w-audit-nodate',
      label: 'audit search without a date range',
      subtype: 'search-type',
      action: 'E',
      outcome: '4',
      requester: 'RR8',
      clientId: 'demo-audit',
      visibleTo: ['RR8'],
    });
    response = await t.fetch(`${BASE}/AuditEvent?${range()}`, {
      headers: clinicalHeaders(consumer, 'RWY', 'w-audit-403'),
    });
    expect(response.status).toBe(403);
    expect1({
      requestId: 'w-audit-403',
      label: 'audit search without an audit role',
      subtype: 'search-type',
      action: 'E',
      outcome: '4',
      requester: 'RWY',
      clientId: 'demo-consumer',
      visibleTo: ['RWY'],
    });
    response = await t.fetch(
      `${BASE}/Patient/$audit?patient.identifier=${NHS_NUMBER_SYSTEM}|${PATIENT_A}&${range()}`,
      {
        headers: clinicalHeaders(rr8, 'RR8', 'w-sar'),
      },
    );
    expect(response.status).toBe(200);
    await response.text();
    expect1({
      requestId: 'w-sar',
      label: 'subject access request',
      subtype: 'operation',
      action: 'E',
      outcome: '0',
      requester: 'RR8',
      clientId: 'demo-audit',
      patient: PATIENT_A,
      visibleTo: ['RR8'],
    });
    response = await t.fetch(`${BASE}/Patient/$audit?patient.identifier=${PATIENT_A}&${range()}`, {
      headers: clinicalHeaders(await auditToken('RAE'), 'RAE', 'w-sar-403'),
    });
    expect(response.status).toBe(403);
    expect1({
      requestId: 'w-sar-403',
      label: 'subject access request by a non-custodian',
      subtype: 'operation',
      action: 'E',
      outcome: '4',
      requester: 'RAE',
      clientId: 'demo-audit',
      patient: PATIENT_A,
      visibleTo: ['RAE'],
    });
    response = await t.fetch(`${BASE}/$export?_type=AuditEvent`, {
      headers: { ...clinicalHeaders(rr8, 'RR8', 'w-export'), prefer: 'respond-async' },
    });
    expect(response.status).toBe(202);
    expect1({
      requestId: 'w-export',
      label: 'bulk export kick-off',
      subtype: 'operation',
      action: 'E',
      outcome: '0',
      requester: 'RR8',
      clientId: 'demo-audit',
      visibleTo: ['RR8'],
    });
    // Unknown route and unacceptable format on a FHIR base.
    response = await t.fetch('/consumer/FHIR/R4/Nothing', {
      headers: clinicalHeaders(consumer, 'RWY', 'w-404'),
    });
    expect(response.status).toBe(404);
    expect1({
      requestId: 'w-404',
      label: 'unknown route',
      subtype: 'request-refused',
      action: 'R',
      outcome: '4',
      requester: 'RWY',
      clientId: 'demo-consumer',
      visibleTo: ['RWY'],
    });
  }

  it('runs a mixed workload: tokens, admin, consumer, producer and audit calls, successes and refusals', async () => {
    await ranWorkload();
    expect(expected).toHaveLength(27);
  });

  it('R7: every request id of the workload has exactly one AuditEvent with the right agents and entities', async () => {
    await ranWorkload();
    const events = await storedEvents();
    expect(expected).toHaveLength(27);
    for (const want of expected) {
      const mine = events.filter((e) => auditFacts(e).requestId === want.requestId);
      expect(mine, `${want.label} (${want.requestId})`).toHaveLength(1);
      const event = mine[0] as AuditEvent;
      const facts = auditFacts(event);
      expect({
        label: want.label,
        subtype: facts.subtype,
        action: facts.action,
        outcome: facts.outcome,
      }).toEqual({
        label: want.label,
        subtype: want.subtype,
        action: want.action,
        outcome: want.outcome,
      });
      expect(facts.requesterOds, want.label).toBe(want.requester);
      expect(facts.clientId, want.label).toBe(want.clientId);
      if (want.patient !== undefined) expect(facts.patientNhs, want.label).toBe(want.patient);
      if (want.custodians !== undefined) expect(facts.custodianOds, want.label).toEqual(want.custodians);
      if (want.outcome !== '0') {
        expect(event.outcomeDesc, want.label).toBeTruthy();
        expect(event.contained).toBeUndefined();
      }
    }
  });

  it('R7: a success names the client, the user with role and purpose, the organisation, the IP and the request', async () => {
    await ranWorkload();
    const [event] = (await storedEvents()).filter((e) => auditFacts(e).requestId === 'w-search');
    if (!event) throw new Error('no event');
    expect(event.type.code).toBe('rest');
    expect(event.subtype?.map((c) => c.code)).toEqual(['search-type', 'ITI-67']);
    const client = event.agent.find((a) => a.who?.identifier?.system === NIR_CLIENT_ID_SYSTEM);
    expect(client?.who?.display).toBe('DEMO EPR of RWY');
    expect(client?.network?.address).toMatch(/127\.0\.0\.1/);
    const user = event.agent.find((a) => a.who?.type === 'Practitioner');
    expect(user?.who?.identifier?.value).toBe('555000000001');
    expect(user?.requestor).toBe(true);
    expect(user?.purposeOfUse?.[0]?.coding?.[0]?.code).toBe('TREAT');
    expect(user?.role?.[0]?.coding?.[0]?.code).toBeTruthy();
    expect(user?.policy?.[0]).toMatch(new RegExp(`^${JTI_PREFIX}`));
    const org = event.agent.find((a) => a.who?.identifier?.system === ODS_SYSTEM);
    expect(org?.who?.identifier?.value).toBe('RWY');
    const transaction = event.entity?.find((e) => e.what?.identifier?.system === TRANSACTION_ID_SYSTEM);
    expect(transaction?.detail?.[0]?.valueString).toBe('corr-w');
    const query = event.entity?.find((e) => e.role?.code === '24');
    expect(Buffer.from(query?.query ?? '', 'base64').toString()).toContain(
      'DocumentReference?subject:identifier=',
    );
    expect(event.source.site).toBe(`${t.url}/consumer/FHIR/R4`);
  });

  it('R10: publication events carry the pointer and its versions before and after', async () => {
    await ranWorkload();
    const events = await storedEvents();
    const byRequest = (id: string) => events.find((e) => auditFacts(e).requestId === id);
    const pointerOf = (id: string) =>
      byRequest(id)?.entity?.find((e) => e.what?.type === 'DocumentReference');
    expect(pointerOf('w-create')?.detail).toEqual([{ type: 'versionAfter', valueString: '1' }]);
    expect(pointerOf('w-update')?.detail).toEqual([
      { type: 'versionBefore', valueString: '1' },
      { type: 'versionAfter', valueString: '2' },
    ]);
    expect(pointerOf('w-delete')?.detail?.[0]).toEqual({ type: 'versionBefore', valueString: '2' });
    // The rolled-back write keeps no version it never produced.
    expect(pointerOf('w-write-rollback')?.detail).toBeUndefined();
    expect(byRequest('w-write-rollback')?.outcomeDesc).toMatch(/^INTERNAL_SERVER_ERROR/);
  });

  it('R8: each organisation sees exactly its share of the workload through the audit API', async () => {
    await ranWorkload();
    const ids = new Set(expected.map((e) => e.requestId));
    for (const ods of AUDIT_ORGS) {
      const seen = (await visible(ods))
        .map((e) => auditFacts(e).requestId)
        .filter((id): id is string => id !== null && ids.has(id));
      const want = expected.filter((e) => e.visibleTo.includes(ods)).map((e) => e.requestId);
      expect(want.length, `${ods} has a share of the workload`).toBeGreaterThan(0);
      expect(seen.sort(), ods).toEqual(want.sort());
    }
  });

  it('R8: the audit API filters by patient, organisation, client, subtype and outcome, and pages with next links', async () => {
    await ranWorkload();
    const ids = async (ods: string, extra: string) =>
      (await visible(ods, extra)).map((e) => auditFacts(e).requestId).filter((id) => id?.startsWith('w-'));
    expect(await ids('RR8', `&entity:identifier=${NHS_NUMBER_SYSTEM}|${PATIENT_A}`)).toEqual(
      expect.arrayContaining(['w-search', 'w-create', 'w-read']),
    );
    expect(await ids('RR8', `&entity:identifier=${PATIENT_A}`)).not.toContain('w-write-ok');
    expect(await ids('RR8', `&agent:identifier=${ODS_SYSTEM}|RWY`)).toEqual(['w-search']);
    expect(
      await ids('RR8', `&agent:identifier=${NIR_CLIENT_ID_SYSTEM}|demo-provider-a&subtype=ITI-67`),
    ).toEqual([]);
    expect(await ids('RR8', '&subtype=delete')).toEqual(['w-delete']);
    expect((await ids('RWY', '&outcome=4')).sort()).toEqual(
      ['w-admin-403', 'w-audit-403', 'w-search-400', 'w-search-403', 'w-token-scope', 'w-404'].sort(),
    );
    const token = await auditToken('RR8');
    const first = (await (
      await t.fetch(`${BASE}/AuditEvent?${range()}&_count=2`, { headers: clinicalHeaders(token, 'RR8') })
    ).json()) as Bundle<AuditEvent>;
    expect(first.entry).toHaveLength(2);
    const next = first.link?.find((l) => l.relation === 'next')?.url ?? '';
    expect(next).toContain('_cursor=');
    const second = (await (
      await fetch(next, { headers: clinicalHeaders(token, 'RR8') })
    ).json()) as Bundle<AuditEvent>;
    const firstIds = first.entry?.map((e) => e.resource?.id) ?? [];
    for (const entry of second.entry ?? []) expect(firstIds).not.toContain(entry.resource?.id);
    // Newest first across the page boundary.
    const times = [...(first.entry ?? []), ...(second.entry ?? [])].map((e) => e.resource?.recorded ?? '');
    expect([...times].sort().reverse()).toEqual(times);
  });

  it('ITI-81: entity identifiers (X-Request-Id, master identifier, NHS number), entity reference, agent-name, address, type, action, outcome; visibility unchanged', async () => {
    await ranWorkload();
    const q = (value: string) => encodeURIComponent(value);
    const ids = async (ods: string, extra: string) =>
      (await visible(ods, extra))
        .map((e) => auditFacts(e).requestId)
        .filter((id): id is string => id?.startsWith('w-') ?? false)
        .sort();
    const pointerEvents = ['w-create', 'w-delete', 'w-read', 'w-update'];
    for (const key of ['entity:identifier', 'entity-id', 'entity.identifier']) {
      expect(await ids('RR8', `&${key}=${q(`${TRANSACTION_ID_SYSTEM}|w-create`)}`), key).toEqual([
        'w-create',
      ]);
      expect(await ids('RR8', `&${key}=w-read,w-update`), key).toEqual(['w-read', 'w-update']);
      // w-seed published another pointer from the same example, with the same master identifier.
      expect(await ids('RR8', `&${key}=${q(published.master)}`), key).toEqual(
        [...pointerEvents, 'w-seed'].sort(),
      );
      expect(await ids('RR8', `&${key}=${q(`${NHS_NUMBER_SYSTEM}|${PATIENT_A}`)}`), key).toEqual(
        expect.arrayContaining(pointerEvents),
      );
      // The same criteria never widen what an organisation sees (R8).
      expect(await ids('RAE', `&${key}=w-create`), key).toEqual([]);
    }
    expect(await ids('RR8', `&entity=DocumentReference/${published.pointerId}`)).toEqual(pointerEvents);
    expect(await ids('RR8', `&patient.identifier=${PATIENT_A}&entity-id=w-read`)).toEqual(['w-read']);
    expect(await ids('RR8', `&patient.identifier=${PATIENT_B}&entity-id=w-read`)).toEqual([]);
    const created = (await storedEvents()).find((e) => auditFacts(e).requestId === 'w-create');
    const user = created?.agent.find((a) => a.name !== undefined);
    const address = created?.agent.find((a) => a.network?.type === '2')?.network?.address ?? '';
    expect(user?.name).toBeTruthy();
    expect(address).not.toBe('');
    const name = user?.name ?? '';
    for (const filter of [
      `agent-name=${q(name.slice(0, 4).toLowerCase())}`,
      `agent-name:exact=${q(name)}`,
      `agent-name:contains=${q(name.slice(2, 6).toUpperCase())}`,
      `address=${q(address)}`,
      `type=${q(`${created?.type.system}|${created?.type.code}`)}`,
      `type=${q(created?.type.code ?? '')}`,
      'action=C,D',
      'action=http://hl7.org/fhir/audit-event-action|C',
      'outcome=http://terminology.hl7.org/CodeSystem/audit-event-outcome|0',
    ]) {
      expect(await ids('RR8', `&entity-id=w-create&${filter}`), filter).toEqual(['w-create']);
    }
    for (const filter of [
      `agent-name:exact=${q(name.toLowerCase())}x`,
      'address=10.255.',
      'type=http://example.org|rest',
      'action=R',
      'outcome=4',
      'entity=DocumentReference/RR8-none',
    ]) {
      expect(await ids('RR8', `&entity-id=w-create&${filter}`), filter).toEqual([]);
    }
  });

  it('R8: refuses bad search parameters with 400 and reads one visible event by id (404 for others)', async () => {
    await ranWorkload();
    const token = await auditToken('RAE');
    for (const query of [
      'date=ge2026-01-01',
      'date=2026-13',
      `${range()}&outcome=3`,
      `${range()}&_count=0`,
      `${range()}&entity:identifier=${NHS_NUMBER_SYSTEM}|123`,
      `${range()}&_cursor=zzz`,
    ]) {
      const response = await t.fetch(`${BASE}/AuditEvent?${query}`, {
        headers: clinicalHeaders(token, 'RAE'),
      });
      expect(response.status, query).toBe(400);
      expect(errorCode(await response.json())).toBe('INVALID_PARAMETER');
    }
    const events = await storedEvents();
    const rr8Only = events.find((e) => auditFacts(e).requestId === 'w-create');
    const raeOwn = events.find((e) => auditFacts(e).requestId === 'w-sar-403');
    const own = await t.fetch(`${BASE}/AuditEvent/${raeOwn?.id}`, { headers: clinicalHeaders(token, 'RAE') });
    expect(own.status).toBe(200);
    expect(((await own.json()) as AuditEvent).id).toBe(raeOwn?.id);
    const other = await t.fetch(`${BASE}/AuditEvent/${rr8Only?.id}`, {
      headers: clinicalHeaders(token, 'RAE'),
    });
    expect(other.status).toBe(404);
    const xml = await t.fetch(`${BASE}/AuditEvent?${range()}&_format=xml`, {
      headers: clinicalHeaders(token, 'RAE'),
    });
    expect(xml.status).toBe(406);
  });

  it('R9: a subject access request returns every access to the patient across organisations, as a Bundle or NDJSON', async () => {
    await ranWorkload();
    const token = await auditToken('RR8');
    const url = `${BASE}/Patient/$audit?patient.identifier=${NHS_NUMBER_SYSTEM}|${PATIENT_A}&${range()}`;
    const response = await t.fetch(url, { headers: clinicalHeaders(token, 'RR8') });
    expect(response.headers.get('content-type')).toMatch(/application\/fhir\+json/);
    const bundle = (await response.json()) as Bundle<AuditEvent>;
    const ids = (bundle.entry ?? []).map((e) => (e.resource ? auditFacts(e.resource).requestId : null));
    // RWY's search, RR8's publication and RAE's refused subject access: all organisations.
    expect(ids).toEqual(
      expect.arrayContaining(['w-search', 'w-create', 'w-update', 'w-delete', 'w-sar-403', 'w-search-401']),
    );
    expect(ids).not.toContain('w-write-ok');
    for (const entry of bundle.entry ?? [])
      expect(entry.resource && auditFacts(entry.resource).patientNhs).toBe(PATIENT_A);

    const ndjson = await t.fetch(`${url}&_format=ndjson`, { headers: clinicalHeaders(token, 'RR8') });
    expect(ndjson.headers.get('content-type')).toMatch(/application\/fhir\+ndjson/);
    const lines = (await ndjson.text())
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as AuditEvent);
    expect(lines.map((e) => e.id)).toEqual(
      expect.arrayContaining((bundle.entry ?? []).map((e) => e.resource?.id)),
    );

    const noRange = await t.fetch(`${BASE}/Patient/$audit?patient.identifier=${PATIENT_A}`, {
      headers: clinicalHeaders(token, 'RR8'),
    });
    expect(noRange.status).toBe(400);
  });

  it('R8: bulk export: 202 + Content-Location, 202 then the manifest, NDJSON files of the organisation’s share, DELETE cancels', async () => {
    await ranWorkload();
    const token = await auditToken('RWY');
    const headers = clinicalHeaders(token, 'RWY');
    const refused = await t.fetch(`${BASE}/$export?_type=AuditEvent`, { headers });
    expect(refused.status).toBe(400);
    const wrongType = await t.fetch(`${BASE}/$export?_type=Patient`, {
      headers: { ...headers, prefer: 'respond-async' },
    });
    expect(wrongType.status).toBe(400);
    const kickOff = await t.fetch(`${BASE}/$export?_type=AuditEvent&_since=${encodeURIComponent(started)}`, {
      headers: { ...headers, prefer: 'respond-async' },
    });
    expect(kickOff.status).toBe(202);
    const status = kickOff.headers.get('content-location') ?? '';
    expect(status).toMatch(new RegExp(`^${t.url}${BASE.replaceAll('/', '\\/')}/\\$export-status/`));
    const first = await fetch(status, { headers });
    expect(first.status).toBe(202);
    expect(first.headers.get('retry-after')).toBeTruthy();
    let done = first;
    let polls = 1;
    for (; done.status === 202 && polls < 50; polls++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      done = await fetch(status, { headers });
    }
    expect(done.status).toBe(200);
    const manifest = (await done.json()) as {
      transactionTime: string;
      requiresAccessToken: boolean;
      output: { type: string; url: string }[];
    };
    expect(manifest.requiresAccessToken).toBe(true);
    expect(manifest.output.length).toBeGreaterThan(0);
    const exported: AuditEvent[] = [];
    for (const file of manifest.output) {
      expect(file.type).toBe('AuditEvent');
      const body = await (await fetch(file.url, { headers })).text();
      exported.push(
        ...body
          .trim()
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => JSON.parse(l) as AuditEvent),
      );
    }
    const ids = new Set(expected.map((e) => e.requestId));
    const mine = exported
      .map((e) => auditFacts(e).requestId)
      .filter((id): id is string => id !== null && ids.has(id));
    expect(mine.sort()).toEqual(
      expected
        .filter((e) => e.visibleTo.includes('RWY'))
        .map((e) => e.requestId)
        .sort(),
    );
    for (const event of exported) {
      const facts = auditFacts(event);
      expect(facts.requesterOds === 'RWY' || facts.custodianOds.includes('RWY')).toBe(true);
      expect(event.recorded < manifest.transactionTime).toBe(true);
    }
    // Another organisation cannot poll it; DELETE cancels it.
    const rae = clinicalHeaders(await auditToken('RAE'), 'RAE');
    expect((await fetch(status, { headers: rae })).status).toBe(404);
    expect((await fetch(status, { method: 'DELETE', headers })).status).toBe(202);
    expect((await fetch(status, { headers })).status).toBe(404);
    expect((await fetch(manifest.output[0]?.url ?? '', { headers })).status).toBe(404);
    // Kick-off, polls, downloads and the cancellation were themselves audited.
    const exportEvents = (await storedEvents()).filter(
      (e) =>
        auditFacts(e).requesterOds === 'RWY' &&
        e.entity?.some((x) => x.what?.identifier?.value === status.split('/').at(-1)),
    );
    // Kick-off, every poll, the files, the cancellation, and the refused poll and download after
    // it (RAE's refused poll is RAE's, not RWY's).
    expect(exportEvents.length).toBe(1 + polls + manifest.output.length + 1 + 2);
  });

  it('Bulk Data v2: POST kick-off with a Parameters body, or with the query string and no body (MedplumClient), as GET', async () => {
    const headers = { ...clinicalHeaders(await auditToken('RWY'), 'RWY'), prefer: 'respond-async' };
    const parameters = {
      resourceType: 'Parameters',
      parameter: [
        { name: '_type', valueString: 'AuditEvent' },
        { name: '_since', valueInstant: started },
        { name: '_outputFormat', valueString: 'application/fhir+ndjson' },
      ],
    };
    const posted = await t.fetch(`${BASE}/$export`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'application/fhir+json' },
      body: JSON.stringify(parameters),
    });
    expect(posted.status, await posted.clone().text()).toBe(202);
    expect(posted.headers.get('content-location')).toMatch(/\/\$export-status\/[0-9a-f-]{36}$/);
    const bare = await t.fetch(`${BASE}/$export?_type=AuditEvent&_since=${encodeURIComponent(started)}`, {
      method: 'POST',
      headers,
    });
    expect(bare.status).toBe(202);
    // The same refusals as GET, and Parameters only.
    const refusals: [unknown, string][] = [
      [{ ...parameters, parameter: [{ name: '_type', valueString: 'Patient' }] }, '_type'],
      [{ ...parameters, parameter: [{ name: '_since', valueString: 'yesterday' }] }, '_since'],
      [
        { ...parameters, parameter: [{ name: '_typeFilter', valueString: 'AuditEvent?outcome=4' }] },
        '_typeFilter',
      ],
      [{ ...parameters, parameter: [{ name: '_type' }] }, 'Parameters.parameter[0]'],
      [{ resourceType: 'Bundle' }, 'Parameters'],
    ];
    for (const [body, expression] of refusals) {
      const res = await t.fetch(`${BASE}/$export`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/fhir+json' },
        body: JSON.stringify(body),
      });
      const outcome = (await res.json()) as { issue?: { expression?: string[] }[] };
      expect([res.status, errorCode(outcome)], expression).toEqual([400, 'INVALID_PARAMETER']);
      expect(outcome.issue?.[0]?.expression, expression).toEqual([expression]);
    }
    const text = await t.fetch(`${BASE}/$export`, {
      method: 'POST',
      headers: { ...headers, 'content-type': 'text/plain' },
      body: '_type=AuditEvent',
    });
    expect(text.status).toBe(415);
  });

  it('R7: no response leaves without its audit: when the audit cannot be written the response is a 500', async () => {
    const consumer = await t.token('demo-consumer');
    await store.db.schema.alterTable('audit_event').renameTo('audit_event_away').execute();
    try {
      const response = await t.fetch(consumerSearch(PATIENT_A), {
        headers: clinicalHeaders(consumer, 'RWY', 'w-audit-down'),
      });
      expect(response.status).toBe(500);
      const body = await response.json();
      expect(errorCode(body)).toBe('INTERNAL_SERVER_ERROR');
      expect(JSON.stringify(body)).not.toContain('audit_event');
      expect(response.headers.get('x-request-id')).toBe('w-audit-down');
    } finally {
      await store.db.schema.alterTable('audit_event_away').renameTo('audit_event').execute();
    }
    const after = await t.fetch(consumerSearch(PATIENT_A), {
      headers: clinicalHeaders(consumer, 'RWY', 'w-audit-back'),
    });
    expect(after.status).toBe(200);
  });

  it('R7: a request without X-Request-Id is audited too, and discovery and health are not', async () => {
    const count = async () =>
      Number(
        (
          await store.db
            .selectFrom('audit_event')
            .select((eb) => eb.fn.countAll<string>().as('n'))
            .executeTakeFirst()
        )?.n,
      );
    const before = await count();
    const consumer = await t.token('demo-consumer');
    const headers = clinicalHeaders(consumer, 'RWY');
    delete headers['x-request-id'];
    expect((await t.fetch(CONSUMER_SEARCH, { headers })).status).toBe(400);
    // One for the token, one for the refusal.
    expect(await count()).toBe(before + 2);
    for (const path of [
      '/audit/FHIR/R4/metadata',
      '/consumer/FHIR/R4/_status',
      '/_status',
      '/audit/FHIR/R4/.well-known/smart-configuration',
    ]) {
      expect((await t.fetch(path)).status).toBe(200);
    }
    expect(await count()).toBe(before + 2);
    const metadata = (await (await t.fetch('/audit/FHIR/R4/metadata')).json()) as { id: string };
    expect(metadata.id).toBe('nir-audit');
  });

  it('R7: retention drops whole expired partitions, audited in the same transaction; events stay immutable', async () => {
    const audit = new AuditStore(store.db);
    const [old] = t.registry.audit.events({
      recorded: '2019-05-05T05:05:05.000Z',
      kind: { subtype: 'read', action: 'R' },
      status: 200,
      serverUrl: t.url,
      patients: [],
      pointers: [],
      custodians: [],
    });
    if (!old) throw new Error('no event');
    await audit.insert([old]);
    await expect(
      store.db.deleteFrom('audit_event').where('recorded', '<', '2020-01-01T00:00:00Z').execute(),
    ).rejects.toThrow(/immutable/);
    const report = await runAuditRetention(t.registry.audit, 72);
    expect(report.dropped).toContain('audit_event_p201905');
    expect(await audit.exists(old.id ?? '', old.recorded)).toBe(false);
    const retention = (await storedEvents()).filter((e) => auditFacts(e).subtype === 'audit-retention');
    expect(retention).toHaveLength(1);
    expect(retention[0]?.entity?.map((e) => e.what?.identifier?.value)).toContain('audit_event_p201905');
    // Nothing left to drop: no event.
    expect((await runAuditRetention(t.registry.audit, 72)).dropped).toEqual([]);
    expect((await storedEvents()).filter((e) => auditFacts(e).subtype === 'audit-retention')).toHaveLength(1);
  });
});
