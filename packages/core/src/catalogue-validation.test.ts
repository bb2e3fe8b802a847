import { describe, expect, it } from 'vitest';
import { parseClientInput, parseGrantInput, parseOrganisationInput } from './catalogue-validation.ts';
import { type IssueSpec, OperationOutcomeError } from './outcomes.ts';

/** Runs `parse`, expecting a refusal; returns it. */
function refusal(parse: () => unknown): OperationOutcomeError {
  try {
    parse();
  } catch (error) {
    if (error instanceof OperationOutcomeError) return error;
    throw error;
  }
  throw new Error('expected an OperationOutcomeError, but the input was accepted');
}

/** The expressions the refusal names, flattened. */
function expressions(error: OperationOutcomeError): string[] {
  return error.issues.flatMap((issue: IssueSpec) =>
    issue.expression === undefined
      ? []
      : Array.isArray(issue.expression)
        ? issue.expression
        : [issue.expression],
  );
}

function expectRefusedAt(parse: () => unknown, ...fields: string[]): OperationOutcomeError {
  const error = refusal(parse);
  expect(error.status).toBe(400);
  expect(error.issues.every((i) => i.code === 'MESSAGE_NOT_WELL_FORMED')).toBe(true);
  expect(expressions(error).sort()).toEqual([...fields].sort());
  for (const issue of error.issues) expect(issue.diagnostics).toMatch(/\S/);
  return error;
}

const RSA_KEY = { kty: 'RSA', kid: 'rsa-1', alg: 'RS384', use: 'sig', n: 'AQAB-modulus', e: 'AQAB' };
const EC_KEY = { kty: 'EC', kid: 'ec-1', crv: 'P-384', x: 'x-coord', y: 'y-coord' };

/** One valid interaction per role, to put ahead of the one under test. */
const ROLE_FIRST = {
  consumer: ['read'],
  producer: ['create'],
  audit: ['audit-search'],
} as const;

describe.each([
  ['parseOrganisationInput', parseOrganisationInput],
  ['parseClientInput', parseClientInput],
  ['parseGrantInput', parseGrantInput],
] as const)('%s with a body that is not an object', (_name, parse) => {
  it.each<[string, unknown]>([
    ['null', null],
    ['undefined', undefined],
    ['a string', 'text'],
    ['a number', 7],
    ['an empty array', []],
    ['an array of objects', [{ odsCode: 'RX898' }]],
  ])('refuses %s with BAD_REQUEST', (_label, body) => {
    const error = refusal(() => parse(body));
    expect(error.status).toBe(400);
    expect(error.issues).toEqual([
      { code: 'BAD_REQUEST', diagnostics: 'Request body must be a JSON object' },
    ]);
  });
});

describe('parseOrganisationInput (R19 catalogue records)', () => {
  it('accepts a complete organisation', () => {
    expect(parseOrganisationInput({ odsCode: 'RX898', name: 'Example Trust', status: 'suspended' })).toEqual({
      odsCode: 'RX898',
      name: 'Example Trust',
      status: 'suspended',
    });
  });

  it('defaults the status to active', () => {
    expect(parseOrganisationInput({ odsCode: 'RX898', name: 'Example Trust' }).status).toBe('active');
  });

  it('issue 14: takes an optional rate limit a minute, a whole number from 1', () => {
    expect(
      parseOrganisationInput({ odsCode: 'RX898', name: 'T', rateLimitPerMinute: 600 }).rateLimitPerMinute,
    ).toBe(600);
    expect('rateLimitPerMinute' in parseOrganisationInput({ odsCode: 'RX898', name: 'T' })).toBe(false);
    for (const bad of [0, -1, 1.5, '600', 10_000_001]) {
      expect(() => parseOrganisationInput({ odsCode: 'RX898', name: 'T', rateLimitPerMinute: bad })).toThrow(
        /rateLimitPerMinute: Input should be a whole number from 1/,
      );
    }
  });

  it.each(['active', 'suspended', 'terminated'])('accepts the status %s', (status) => {
    expect(parseOrganisationInput({ odsCode: 'RX898', name: 'n', status }).status).toBe(status);
  });

  it.each([
    ['missing', {}],
    ['empty', { odsCode: '' }],
    ['blank', { odsCode: '   ' }],
    ['not a string', { odsCode: 898 }],
    ['lower case', { odsCode: 'rx898' }],
    ['too short', { odsCode: 'RX' }],
    ['too long', { odsCode: 'RX898123456' }],
    ['with punctuation', { odsCode: 'RX898.1' }],
  ])('names odsCode when it is %s', (_label, fields) => {
    expectRefusedAt(() => parseOrganisationInput({ name: 'n', ...fields }), 'odsCode');
  });

  it.each([
    ['missing', {}],
    ['empty', { name: '' }],
    ['blank', { name: ' \t' }],
    ['not a string', { name: ['x'] }],
  ])('names name when it is %s', (_label, fields) => {
    expectRefusedAt(() => parseOrganisationInput({ odsCode: 'RX898', ...fields }), 'name');
  });

  it.each(['inactive', 'Active', 1, true])('names status when it is %j', (status) => {
    expectRefusedAt(() => parseOrganisationInput({ odsCode: 'RX898', name: 'n', status }), 'status');
  });

  it('refuses unknown keys, naming each', () => {
    const error = expectRefusedAt(
      () => parseOrganisationInput({ odsCode: 'RX898', name: 'n', version: 3, extra: true }),
      'version',
      'extra',
    );
    expect(error.issues.map((i) => i.diagnostics)).toContain('extra: Extra inputs are not permitted');
  });

  it('reports every bad field at once', () => {
    expectRefusedAt(
      () => parseOrganisationInput({ odsCode: 'x', status: 'gone' }),
      'odsCode',
      'name',
      'status',
    );
  });
});

describe('parseClientInput (R18 client registration)', () => {
  const valid = {
    clientId: 'pacs-supplier.prod_1',
    name: 'PACS supplier',
    status: 'active',
    jwks: { keys: [RSA_KEY, EC_KEY] },
    organisations: ['RX898', 'Y05868'],
    roles: ['producer', 'consumer'],
    admin: false,
  };

  it('accepts a complete client with RSA and EC public keys', () => {
    expect(parseClientInput(valid)).toEqual(valid);
  });

  it('issue 14: takes optional request and token limits a minute', () => {
    expect(parseClientInput({ ...valid, rateLimitPerMinute: 30_000, tokenLimitPerMinute: 60 })).toEqual({
      ...valid,
      rateLimitPerMinute: 30_000,
      tokenLimitPerMinute: 60,
    });
    expect(() => parseClientInput({ ...valid, tokenLimitPerMinute: 0 })).toThrow(/tokenLimitPerMinute/);
    expect(() => parseClientInput({ ...valid, rateLimitPerMinute: 'lots' })).toThrow(/rateLimitPerMinute/);
  });

  it('R18: defaults status to active, organisations and roles to none, admin to false', () => {
    expect(parseClientInput({ clientId: 'abc', name: 'n', jwks: { keys: [EC_KEY] } })).toEqual({
      clientId: 'abc',
      name: 'n',
      status: 'active',
      jwks: { keys: [EC_KEY] },
      organisations: [],
      roles: [],
      admin: false,
    });
  });

  it('removes duplicate organisations and roles', () => {
    const parsed = parseClientInput({
      ...valid,
      organisations: ['RX898', 'RX898'],
      roles: ['audit', 'audit'],
    });
    expect(parsed.organisations).toEqual(['RX898']);
    expect(parsed.roles).toEqual(['audit']);
  });

  it.each([
    ['not a list', 'producer', 'roles'],
    ['with an unknown role', ['producer', 'admin'], 'roles[1]'],
    ['with a role in the wrong case', ['Consumer'], 'roles[0]'],
    ['with a non-string', [1], 'roles[0]'],
  ])('R18: names roles when it is %s', (_label, roles, field) => {
    expectRefusedAt(() => parseClientInput({ ...valid, roles }), field);
  });

  it('accepts admin true and status disabled', () => {
    const parsed = parseClientInput({ ...valid, admin: true, status: 'disabled' });
    expect(parsed.admin).toBe(true);
    expect(parsed.status).toBe('disabled');
  });

  it.each([
    ['missing', undefined],
    ['too short', 'ab'],
    ['too long', 'a'.repeat(65)],
    ['with a space', 'my client'],
    ['with a slash', 'a/b'],
    ['not a string', 12345],
  ])('names clientId when it is %s', (_label, clientId) => {
    expectRefusedAt(() => parseClientInput({ ...valid, clientId }), 'clientId');
  });

  it('names name when it is missing', () => {
    const { name: _name, ...rest } = valid;
    expectRefusedAt(() => parseClientInput(rest), 'name');
  });

  it('names status when it is not a client status', () => {
    expectRefusedAt(() => parseClientInput({ ...valid, status: 'suspended' }), 'status');
  });

  it.each([
    ['missing', undefined],
    ['not an object', 'https://example.org/jwks.json'],
    ['without keys', {}],
    ['with keys not a list', { keys: RSA_KEY }],
    ['with no keys', { keys: [] }],
    ['null', null],
  ])('names jwks when it is %s', (_label, jwks) => {
    expectRefusedAt(() => parseClientInput({ ...valid, jwks }), 'jwks');
  });

  it.each([
    ['an RSA private key (has d)', { ...RSA_KEY, d: 'private-exponent' }],
    ['an RSA key with primes p and q', { ...RSA_KEY, p: 'p', q: 'q' }],
    ['an EC private key (has d)', { ...EC_KEY, d: 'private-scalar' }],
    ['a symmetric key (oct, has k)', { kty: 'oct', kid: 'sym', k: 'secret' }],
    ['a key without kid', { kty: 'RSA', n: 'n', e: 'e' }],
    ['a key with an empty kid', { ...RSA_KEY, kid: '' }],
    ['a key with a non-string kid', { ...RSA_KEY, kid: 7 }],
    ['an RSA key without n', { kty: 'RSA', kid: 'r', e: 'e' }],
    ['an RSA key without e', { kty: 'RSA', kid: 'r', n: 'n' }],
    ['an EC key without crv', { kty: 'EC', kid: 'e', x: 'x', y: 'y' }],
    ['an EC key without y', { kty: 'EC', kid: 'e', crv: 'P-256', x: 'x' }],
    ['an OKP key', { kty: 'OKP', kid: 'o', crv: 'Ed25519', x: 'x' }],
    ['a key without kty', { kid: 'k', n: 'n', e: 'e' }],
    ['not an object', 'key'],
    ['null', null],
  ])('R18: refuses %s, naming the key', (_label, key) => {
    const error = expectRefusedAt(
      () => parseClientInput({ ...valid, jwks: { keys: [EC_KEY, key] } }),
      'jwks.keys[1]',
    );
    expect(error.issues[0]?.diagnostics).toMatch(/public RSA or EC key with a kid/);
  });

  it('R18: refuses a duplicate kid, naming the second key', () => {
    const error = expectRefusedAt(
      () => parseClientInput({ ...valid, jwks: { keys: [RSA_KEY, { ...EC_KEY, kid: RSA_KEY.kid }] } }),
      'jwks.keys[1].kid',
    );
    expect(error.issues[0]?.diagnostics).toMatch(/unique/);
  });

  it.each([
    ['not a list', 'RX898', 'organisations'],
    ['with a lower-case code', ['RX898', 'rx1'], 'organisations[1]'],
    ['with a non-string', [898], 'organisations[0]'],
    ['with an empty code', [''], 'organisations[0]'],
  ])('names organisations when it is %s', (_label, organisations, field) => {
    expectRefusedAt(() => parseClientInput({ ...valid, organisations }), field);
  });

  it.each(['true', 1, 'yes'])('names admin when it is %j', (admin) => {
    expectRefusedAt(() => parseClientInput({ ...valid, admin }), 'admin');
  });

  it('refuses unknown keys (including catalogue bookkeeping such as demo and version)', () => {
    expectRefusedAt(() => parseClientInput({ ...valid, demo: true, version: 2 }), 'demo', 'version');
  });
});

describe('parseGrantInput (R3 grants)', () => {
  const valid = {
    odsCode: 'RX898',
    role: 'consumer',
    pointerTypes: ['http://snomed.info/sct|4201000179104'],
    interactions: ['read', 'search', 'count'],
    accessControls: [],
  };

  it('accepts a complete grant', () => {
    expect(parseGrantInput(valid)).toEqual(valid);
  });

  it('defaults lists to empty', () => {
    expect(parseGrantInput({ odsCode: 'RX898', role: 'audit' })).toEqual({
      odsCode: 'RX898',
      role: 'audit',
      pointerTypes: [],
      interactions: [],
      accessControls: [],
    });
  });

  it('removes duplicates from every list', () => {
    expect(
      parseGrantInput({
        odsCode: 'RX898',
        role: 'producer',
        pointerTypes: ['a|b', 'a|b'],
        interactions: ['create', 'create', 'read'],
        accessControls: ['ALLOW_ALL_TYPES', 'ALLOW_ALL_TYPES'],
      }),
    ).toEqual({
      odsCode: 'RX898',
      role: 'producer',
      pointerTypes: ['a|b'],
      interactions: ['create', 'read'],
      accessControls: ['ALLOW_ALL_TYPES'],
    });
  });

  it('names odsCode when it is missing or malformed', () => {
    expectRefusedAt(() => parseGrantInput({ ...valid, odsCode: undefined }), 'odsCode');
    expectRefusedAt(() => parseGrantInput({ ...valid, odsCode: 'rx898' }), 'odsCode');
  });

  it('names role when it is missing (no default role)', () => {
    expectRefusedAt(() => parseGrantInput({ ...valid, role: undefined, interactions: [] }), 'role');
  });

  it('names role when it is not a role', () => {
    expectRefusedAt(() => parseGrantInput({ ...valid, role: 'admin', interactions: [] }), 'role');
  });

  it.each([
    ['no bar', ['http://snomed.info/sct']],
    ['two bars', ['a|b|c']],
    ['an empty code', ['http://snomed.info/sct|']],
    ['a space', ['http://snomed.info/sct| 123']],
  ])('names the pointer type with %s', (_label, pointerTypes) => {
    expectRefusedAt(() => parseGrantInput({ ...valid, pointerTypes }), 'pointerTypes[0]');
  });

  it('names pointerTypes when it is not a list', () => {
    expectRefusedAt(() => parseGrantInput({ ...valid, pointerTypes: 'a|b' }), 'pointerTypes');
  });

  it.each([
    ['consumer', 'create'],
    ['consumer', 'delete'],
    ['consumer', 'audit-search'],
    ['producer', 'audit-export'],
    ['audit', 'read'],
    ['audit', 'search'],
  ])('R3: refuses for the %s role the interaction %s, which is not of that role', (role, interaction) => {
    const error = expectRefusedAt(
      () =>
        parseGrantInput({
          ...valid,
          role,
          interactions: [...ROLE_FIRST[role as keyof typeof ROLE_FIRST], interaction],
        }),
      'interactions[1]',
    );
    expect(error.issues[0]?.diagnostics).toContain(`not an interaction of the ${role} role`);
  });

  it('R3: refuses an interaction that does not exist', () => {
    const error = refusal(() => parseGrantInput({ ...valid, interactions: ['read', 'purge'] }));
    expect(error.status).toBe(400);
    expect(new Set(expressions(error))).toEqual(new Set(['interactions[1]']));
  });

  it('names the interaction by its index in the request, even after a non-string entry', () => {
    const error = refusal(() => parseGrantInput({ ...valid, role: 'consumer', interactions: [5, 'create'] }));
    // Entry 0 is not a string; entry 1 ('create') is not a consumer interaction.
    expect(error.issues).toContainEqual(
      expect.objectContaining({
        expression: 'interactions[1]',
        diagnostics: expect.stringContaining("'create'"),
      }),
    );
    expect(new Set(expressions(error))).toEqual(new Set(['interactions[0]', 'interactions[1]']));
  });

  it('names an unknown access control', () => {
    expectRefusedAt(
      () => parseGrantInput({ ...valid, accessControls: ['ALLOW_ALL_TYPES', 'allow-all-pointer-types'] }),
      'accessControls[1]',
    );
  });

  it('refuses unknown keys', () => {
    expectRefusedAt(() => parseGrantInput({ ...valid, grantId: 'x', types: [] }), 'grantId', 'types');
  });
});
