import { describe, expect, it } from 'vitest';
import { type AccessRequest, authoriseRequest } from './access-policy.ts';
import type { ClientSystem, Grant, Organisation } from './catalogue.ts';
import type { EndUser } from './end-user.ts';
import { OperationOutcomeError } from './outcomes.ts';
import { ACT_REASON_SYSTEM } from './purpose-of-use.ts';

const ODS = 'RX898';
const NOW = '2025-01-01T00:00:00.000Z';
const XRAY = 'http://snomed.info/sct|4201000179104';

const client: ClientSystem = {
  clientId: 'pacs-supplier',
  name: 'PACS supplier',
  status: 'active',
  jwks: { keys: [{ kty: 'EC', kid: 'k1', crv: 'P-384', x: 'x', y: 'y' }] },
  organisations: ['Y05868', ODS],
  roles: ['consumer', 'producer', 'audit'],
  admin: false,
  demo: false,
  version: 1,
  updatedAt: NOW,
};

const organisation: Organisation = {
  odsCode: ODS,
  name: 'Example Trust',
  status: 'active',
  version: 1,
  updatedAt: NOW,
};

const consumerGrant: Grant = {
  grantId: 'g-consumer',
  odsCode: ODS,
  role: 'consumer',
  pointerTypes: [XRAY],
  interactions: ['read', 'search', 'count'],
  accessControls: [],
  version: 1,
  updatedAt: NOW,
};

const producerGrant: Grant = {
  grantId: 'g-producer',
  odsCode: ODS,
  role: 'producer',
  pointerTypes: [XRAY],
  interactions: ['create', 'upsert', 'update', 'delete', 'read', 'search', 'count', 'transaction', 'history'],
  accessControls: [],
  version: 1,
  updatedAt: NOW,
};

const auditGrant: Grant = {
  grantId: 'g-audit',
  odsCode: ODS,
  role: 'audit',
  pointerTypes: [],
  interactions: ['audit-search', 'audit-export'],
  accessControls: [],
  version: 1,
  updatedAt: NOW,
};

const endUser: EndUser = {
  id: 'user-1',
  name: 'Dr A Smith',
  role: [{ system: 'https://fhir.nhs.uk/CodeSystem/NHSDigital-SDS-JobRoleCode', code: 'R8000' }],
  purposeOfUse: [{ system: ACT_REASON_SYSTEM, code: 'TREAT' }],
  organisation: ODS,
};

/** A consumer search that every check allows. */
const allowed: AccessRequest = {
  client,
  odsCode: ODS,
  organisation,
  grant: consumerGrant,
  role: 'consumer',
  interaction: 'search',
  scopes: ['system/DocumentReference.rs'],
  endUser,
  clinical: true,
};

const producerCreate: AccessRequest = {
  ...allowed,
  grant: producerGrant,
  role: 'producer',
  interaction: 'create',
  scopes: ['system/DocumentReference.cruds'],
};

const auditExport: AccessRequest = {
  ...allowed,
  grant: auditGrant,
  role: 'audit',
  interaction: 'audit-export',
  scopes: ['system/AuditEvent.rs'],
  clinical: false,
};

function refusalOf(request: AccessRequest): OperationOutcomeError {
  try {
    authoriseRequest(request);
  } catch (error) {
    if (error instanceof OperationOutcomeError) return error;
    throw error;
  }
  throw new Error('expected the request to be refused, but it was allowed');
}

type Refusal = '401 ACCESS_DENIED' | '403 ACCESS DENIED';

const refused: [string, AccessRequest, Refusal, RegExp][] = [
  // The client (R18: every token is checked on every request).
  [
    'R18: an unknown (deleted) client is refused',
    { ...allowed, client: undefined },
    '401 ACCESS_DENIED',
    /token/,
  ],
  [
    'R18: a disabled client is refused',
    { ...allowed, client: { ...client, status: 'disabled' } },
    '401 ACCESS_DENIED',
    /token/,
  ],
  [
    'R3: a client not registered for the ODS code is refused',
    { ...allowed, odsCode: 'Y99999', endUser: { ...endUser, organisation: 'Y99999' } },
    '403 ACCESS DENIED',
    /Your organisation 'Y99999' does not have permission/,
  ],
  [
    'R3: a client registered for no organisation is refused',
    { ...allowed, client: { ...client, organisations: [] } },
    '403 ACCESS DENIED',
    /does not have permission/,
  ],
  [
    'R18: a client not registered for the role is refused (least privilege)',
    { ...allowed, client: { ...client, roles: ['producer', 'audit'] } },
    '403 ACCESS DENIED',
    /Your organisation 'RX898' does not have permission/,
  ],
  [
    'R18: a client registered for no role is refused',
    { ...producerCreate, client: { ...client, roles: [] } },
    '403 ACCESS DENIED',
    /does not have permission/,
  ],
  [
    'R18: a consumer-only client cannot act as producer even when the organisation has a producer grant',
    { ...producerCreate, client: { ...client, roles: ['consumer'] } },
    '403 ACCESS DENIED',
    /does not have permission/,
  ],
  [
    'R7: an end-user organisation different from the ODS header is refused',
    { ...allowed, endUser: { ...endUser, organisation: 'Y05868' } },
    '403 ACCESS DENIED',
    /end user organisation/,
  ],
  // The organisation (R6).
  [
    'R3: an organisation not in the catalogue is refused',
    { ...allowed, organisation: undefined },
    '403 ACCESS DENIED',
    /not active/,
  ],
  [
    'R6: a suspended organisation is refused',
    { ...allowed, organisation: { ...organisation, status: 'suspended' } },
    '403 ACCESS DENIED',
    /not active/,
  ],
  [
    'R6: a terminated organisation is refused',
    { ...allowed, organisation: { ...organisation, status: 'terminated' } },
    '403 ACCESS DENIED',
    /not active/,
  ],
  [
    'R6: a suspended organisation is refused even for a producer with every permission',
    { ...producerCreate, organisation: { ...organisation, status: 'suspended' } },
    '403 ACCESS DENIED',
    /not active/,
  ],
  [
    'R6: a terminated organisation is refused for audit too',
    { ...auditExport, organisation: { ...organisation, status: 'terminated' } },
    '403 ACCESS DENIED',
    /not active/,
  ],
  // The end user (R7) and purpose of use (R5).
  [
    'R7: a token without an end user is refused',
    { ...allowed, endUser: undefined },
    '403 ACCESS DENIED',
    /end user/,
  ],
  [
    'R7: a token without an end user is refused for a non-clinical request too',
    { ...auditExport, endUser: undefined },
    '403 ACCESS DENIED',
    /end user/,
  ],
  [
    'R5: no purpose of use is refused',
    { ...allowed, endUser: { ...endUser, purposeOfUse: [] } },
    '403 ACCESS DENIED',
    /direct care only/,
  ],
  [
    'R5: break the glass (BTG) is refused',
    { ...allowed, endUser: { ...endUser, purposeOfUse: [{ system: ACT_REASON_SYSTEM, code: 'BTG' }] } },
    '403 ACCESS DENIED',
    /direct care only/,
  ],
  [
    'R5: healthcare operations (HOPERAT) is refused',
    { ...allowed, endUser: { ...endUser, purposeOfUse: [{ system: ACT_REASON_SYSTEM, code: 'HOPERAT' }] } },
    '403 ACCESS DENIED',
    /direct care only/,
  ],
  [
    'R5: direct care mixed with research is refused',
    {
      ...allowed,
      endUser: {
        ...endUser,
        purposeOfUse: [
          { system: ACT_REASON_SYSTEM, code: 'TREAT' },
          { system: ACT_REASON_SYSTEM, code: 'HRESCH' },
        ],
      },
    },
    '403 ACCESS DENIED',
    /direct care only/,
  ],
  [
    'R5: TREAT in the wrong code system is refused',
    { ...allowed, endUser: { ...endUser, purposeOfUse: [{ system: 'http://example.org', code: 'TREAT' }] } },
    '403 ACCESS DENIED',
    /direct care only/,
  ],
  [
    'R5: a producer write without direct-care purpose is refused',
    { ...producerCreate, endUser: { ...endUser, purposeOfUse: [] } },
    '403 ACCESS DENIED',
    /direct care only/,
  ],
  // The grant (R3, R4: deny by default).
  [
    'R3: no grant is refused',
    { ...allowed, grant: undefined },
    '403 ACCESS DENIED',
    /does not have permission/,
  ],
  [
    'R3: a grant for another role is refused (producer grant, consumer request)',
    { ...allowed, grant: { ...producerGrant } },
    '403 ACCESS DENIED',
    /does not have permission/,
  ],
  [
    'R3: an interaction not listed in the grant is refused',
    { ...allowed, interaction: 'count', grant: { ...consumerGrant, interactions: ['read', 'search'] } },
    '403 ACCESS DENIED',
    /does not have permission/,
  ],
  [
    'R3: a grant with no interactions allows nothing',
    { ...allowed, grant: { ...consumerGrant, interactions: [] } },
    '403 ACCESS DENIED',
    /does not have permission/,
  ],
  [
    'R4: a producer without delete in its grant cannot delete',
    {
      ...producerCreate,
      interaction: 'delete',
      grant: { ...producerGrant, interactions: ['create', 'read', 'update'] },
    },
    '403 ACCESS DENIED',
    /does not have permission/,
  ],
  [
    'R3: a consumer grant with no pointer types and no ALLOW_ALL_TYPES is refused',
    { ...allowed, grant: { ...consumerGrant, pointerTypes: [] } },
    '403 ACCESS DENIED',
    /does not have permission/,
  ],
  [
    'R4: a producer grant with no pointer types and no ALLOW_ALL_TYPES is refused',
    {
      ...producerCreate,
      grant: { ...producerGrant, pointerTypes: [], accessControls: ['ALLOW_OVERRIDE_CREATION_DATETIME'] },
    },
    '403 ACCESS DENIED',
    /does not have permission/,
  ],
  // The token's scope (R18).
  ['R18: a token with no scopes is refused', { ...allowed, scopes: [] }, '403 ACCESS DENIED', /scope/],
  [
    'R18: a consumer scope does not allow a create',
    { ...producerCreate, scopes: ['system/DocumentReference.rs'] },
    '403 ACCESS DENIED',
    /scope/,
  ],
  [
    'R18: a read-only scope does not allow a search',
    { ...allowed, scopes: ['system/DocumentReference.r'] },
    '403 ACCESS DENIED',
    /scope/,
  ],
  [
    'R18: a v1 read scope does not allow an update',
    { ...producerCreate, interaction: 'update', scopes: ['system/DocumentReference.read'] },
    '403 ACCESS DENIED',
    /scope/,
  ],
  [
    'R18: a DocumentReference scope does not allow audit export',
    { ...auditExport, scopes: ['system/DocumentReference.cruds'] },
    '403 ACCESS DENIED',
    /scope/,
  ],
  [
    'R18: the admin scope does not allow a search',
    { ...allowed, scopes: ['admin/catalogue'] },
    '403 ACCESS DENIED',
    /scope/,
  ],
  [
    'R18: a malformed scope does not allow a search',
    { ...allowed, scopes: ['system/DocumentReference.sr', 'user/DocumentReference.rs'] },
    '403 ACCESS DENIED',
    /scope/,
  ],
];

describe('authoriseRequest: refusals (deny by default)', () => {
  it.each(refused)('%s', (_name, request, expected, diagnostics) => {
    const error = refusalOf(request);
    const [status, code] = expected === '401 ACCESS_DENIED' ? [401, 'ACCESS_DENIED'] : [403, 'ACCESS DENIED'];
    expect(error.status).toBe(status);
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]?.code).toBe(code);
    expect(error.issues[0]?.diagnostics).toMatch(diagnostics);
    const issue = error.toOperationOutcome().issue[0];
    expect(issue?.code).toBe('forbidden');
    expect(issue?.details?.coding?.[0]).toEqual({
      system: 'https://fhir.nhs.uk/CodeSystem/Spine-ErrorOrWarningCode',
      code,
      display: 'Access has been denied to process this request',
    });
    expect(issue).not.toHaveProperty('expression');
  });
});

describe('authoriseRequest: allowed requests', () => {
  it('R3: a consumer search with every check passing returns the grant', () => {
    expect(authoriseRequest(allowed)).toBe(consumerGrant);
  });

  it.each(['read', 'search', 'count'] as const)('R3: a consumer %s is allowed', (interaction) => {
    expect(authoriseRequest({ ...allowed, interaction })).toBe(consumerGrant);
  });

  it('R4: a producer create with the producer scope returns the grant', () => {
    expect(authoriseRequest(producerCreate)).toBe(producerGrant);
  });

  it.each([
    'create',
    'upsert',
    'update',
    'delete',
    'read',
    'search',
    'count',
    'transaction',
    'history',
  ] as const)('R4: a producer %s is allowed with the cruds scope', (interaction) => {
    expect(authoriseRequest({ ...producerCreate, interaction })).toBe(producerGrant);
  });

  it.each(['TREAT', 'ETREAT', 'ERTREAT', 'COC'])('R5: purpose of use %s is allowed', (code) => {
    const request = {
      ...allowed,
      endUser: { ...endUser, purposeOfUse: [{ system: ACT_REASON_SYSTEM, code }] },
    };
    expect(authoriseRequest(request)).toBe(consumerGrant);
  });

  it('R3: empty pointer types are allowed with ALLOW_ALL_TYPES', () => {
    const grant: Grant = { ...consumerGrant, pointerTypes: [], accessControls: ['ALLOW_ALL_TYPES'] };
    expect(authoriseRequest({ ...allowed, grant })).toBe(grant);
  });

  it('R8: the audit role needs no pointer types and no direct-care purpose (not clinical)', () => {
    const request: AccessRequest = {
      ...auditExport,
      endUser: { ...endUser, purposeOfUse: [{ system: ACT_REASON_SYSTEM, code: 'HOPERAT' }] },
    };
    expect(authoriseRequest(request)).toBe(auditGrant);
    expect(authoriseRequest({ ...request, interaction: 'audit-search' })).toBe(auditGrant);
  });

  it('an end user without an organisation claim is allowed (the ODS header names it)', () => {
    const { organisation: _org, ...user } = endUser;
    expect(authoriseRequest({ ...allowed, endUser: user })).toBe(consumerGrant);
  });

  it('R18: SMART v1 scopes are honoured', () => {
    expect(authoriseRequest({ ...allowed, scopes: ['system/*.read'] })).toBe(consumerGrant);
    expect(authoriseRequest({ ...allowed, scopes: ['system/DocumentReference.read'] })).toBe(consumerGrant);
    expect(authoriseRequest({ ...producerCreate, scopes: ['system/DocumentReference.write'] })).toBe(
      producerGrant,
    );
  });

  it('R18: one sufficient scope among others is enough', () => {
    expect(
      authoriseRequest({ ...allowed, scopes: ['admin/catalogue', 'junk', 'system/DocumentReference.s'] }),
    ).toBe(consumerGrant);
  });
});

describe('authoriseRequest: which refusal wins', () => {
  it('R18: a disabled client is 401 even when everything else is wrong too', () => {
    const error = refusalOf({
      ...allowed,
      client: { ...client, status: 'disabled' },
      organisation: { ...organisation, status: 'suspended' },
      grant: undefined,
      endUser: undefined,
      scopes: [],
    });
    expect(error.status).toBe(401);
    expect(error.issues[0]?.code).toBe('ACCESS_DENIED');
  });

  it('R6: a suspended organisation is refused before its grant or scope is looked at', () => {
    const error = refusalOf({
      ...allowed,
      organisation: { ...organisation, status: 'suspended' },
      grant: undefined,
      scopes: [],
    });
    expect(error.issues[0]?.diagnostics).toMatch(/not active/);
  });

  it('R5: the purpose of use is checked before the grant', () => {
    const error = refusalOf({ ...allowed, endUser: { ...endUser, purposeOfUse: [] }, grant: undefined });
    expect(error.issues[0]?.diagnostics).toMatch(/direct care only/);
  });
});

// Killers of mutants that survived `pnpm test:mutation access-policy` (docs/MUTATION.md): each
// interaction needs exactly its own SMART permission, and every other permission is not enough.
describe('R18: the scope permission each interaction needs', () => {
  const LETTERS = ['c', 'r', 'u', 'd', 's'] as const;
  const NEEDS: [AccessRequest['interaction'], string, (typeof LETTERS)[number]][] = [
    ['create', 'DocumentReference', 'c'],
    ['upsert', 'DocumentReference', 'c'],
    ['transaction', 'DocumentReference', 'c'],
    ['update', 'DocumentReference', 'u'],
    ['delete', 'DocumentReference', 'd'],
    ['read', 'DocumentReference', 'r'],
    ['history', 'DocumentReference', 'r'],
    ['search', 'DocumentReference', 's'],
    ['count', 'DocumentReference', 's'],
    ['audit-search', 'AuditEvent', 's'],
    ['audit-export', 'AuditEvent', 'r'],
  ];
  const requestFor = (interaction: AccessRequest['interaction'], scopes: string[]): AccessRequest =>
    interaction.startsWith('audit-')
      ? { ...auditExport, interaction, scopes }
      : { ...producerCreate, interaction, scopes };

  it.each(NEEDS)(
    '%s needs %s.%s: allowed with it alone, refused with every other letter',
    (interaction, type, letter) => {
      expect(() => authoriseRequest(requestFor(interaction, [`system/${type}.${letter}`]))).not.toThrow();
      const others = LETTERS.filter((l) => l !== letter).join('');
      const refusal = refusalOf(requestFor(interaction, [`system/${type}.${others}`]));
      expect(refusal.issues[0]?.diagnostics).toMatch(/scope/);
      const otherType = type === 'AuditEvent' ? 'DocumentReference' : 'AuditEvent';
      expect(refusalOf(requestFor(interaction, [`system/${otherType}.cruds`])).status).toBe(403);
    },
  );
});
