import { describe, expect, it } from 'vitest';
import { endUserFromClaims, type IuaClaims, readIuaClaims } from './end-user.ts';
import { ACT_REASON_SYSTEM } from './purpose-of-use.ts';

const ROLE = {
  system: 'https://fhir.nhs.uk/CodeSystem/NHSDigital-SDS-JobRoleCode',
  code: 'R8000',
  display: 'Clinical Practitioner',
};
const TREAT = { system: ACT_REASON_SYSTEM, code: 'TREAT' };

const fullClaims = {
  subject_name: 'Dr A Smith',
  subject_id: '5b7c7a7e-0d1c-4e8a-9d9e-1a2b3c4d5e6f',
  subject_organization_id: 'RX898',
  subject_organization: 'Example Hospital',
  subject_role: [ROLE],
  purpose_of_use: [TREAT],
};

describe('readIuaClaims', () => {
  it('reads every well-formed claim', () => {
    expect(readIuaClaims(fullClaims)).toStrictEqual(fullClaims);
  });

  it.each([undefined, null, 'a string', 42, true])('gives no claims for %j', (raw) => {
    expect(readIuaClaims(raw)).toStrictEqual({});
  });

  it('ignores claims it does not know', () => {
    expect(
      readIuaClaims({ subject_id: 'u1', home_community_id: 'x', national_provider_identifier: 'y' }),
    ).toStrictEqual({
      subject_id: 'u1',
    });
  });

  it.each([
    ['a number', 42],
    ['an empty string', ''],
    ['an object', { id: 'u1' }],
    ['an array', ['u1']],
    ['null', null],
    ['a string over 256 characters', 'x'.repeat(257)],
  ])('drops string claims that are %s', (_label, value) => {
    const claims = readIuaClaims({
      subject_name: value,
      subject_id: value,
      subject_organization_id: value,
      subject_organization: value,
    });
    expect(claims).toStrictEqual({});
  });

  it('drops claims with a control character or broken Unicode (issue 14 point 2), as missing', () => {
    const claims = readIuaClaims({
      ...fullClaims,
      subject_id: 'user\u0000',
      subject_name: 'Dr \ud800',
      subject_role: [
        { system: 'https://fhir.nhs.uk/CodeSystem/NHSDigital-SDS-JobRoleCode', code: 'R8000\u0001' },
      ],
    });
    expect(claims.subject_id).toBeUndefined();
    expect(claims.subject_name).toBeUndefined();
    expect(claims.subject_role).toBeUndefined();
    expect(endUserFromClaims(claims)).toBeUndefined();
  });

  it('keeps a string of exactly 256 characters', () => {
    expect(readIuaClaims({ subject_id: 'x'.repeat(256) })).toStrictEqual({ subject_id: 'x'.repeat(256) });
  });

  it.each([
    ['not an array', ROLE],
    ['a string', 'R8000'],
    ['an array with a non-object', [ROLE, 'R8000']],
    ['an array with null', [null]],
    ['a coding without a code', [{ system: ROLE.system }]],
    ['a coding whose code is not a string', [{ system: ROLE.system, code: 8000 }]],
    ['a coding whose system is not a string', [{ system: 1, code: 'R8000' }]],
    ['one malformed coding among good ones', [ROLE, { system: ROLE.system }]],
  ])('drops subject_role and purpose_of_use when %s', (_label, value) => {
    const claims = readIuaClaims({ subject_id: 'u1', subject_role: value, purpose_of_use: value });
    expect(claims).toStrictEqual({ subject_id: 'u1' });
  });

  it('keeps only system, code and display of a coding, and drops a non-string display', () => {
    const claims = readIuaClaims({
      subject_role: [{ system: 's', code: 'c', display: 5, userSelected: true }],
      purpose_of_use: [{ code: 'TREAT', display: 'treatment', extra: 'x' }],
    });
    expect(claims).toStrictEqual({
      subject_role: [{ system: 's', code: 'c' }],
      purpose_of_use: [{ code: 'TREAT', display: 'treatment' }],
    });
  });

  it('returns new codings, not the objects it was given', () => {
    const raw = { subject_role: [ROLE] };
    const claims = readIuaClaims(raw);
    expect(claims.subject_role?.[0]).not.toBe(ROLE);
    expect(claims.subject_role?.[0]).toEqual(ROLE);
  });
});

describe('endUserFromClaims', () => {
  it('resolves the end user from complete claims', () => {
    expect(endUserFromClaims(readIuaClaims(fullClaims))).toStrictEqual({
      id: fullClaims.subject_id,
      name: 'Dr A Smith',
      role: [ROLE],
      purposeOfUse: [TREAT],
      organisation: 'RX898',
    });
  });

  it('R7: needs the user id', () => {
    const { subject_id: _id, ...claims } = fullClaims;
    expect(endUserFromClaims(claims)).toBeUndefined();
  });

  it('R7: needs the user role', () => {
    const { subject_role: _role, ...claims } = fullClaims;
    expect(endUserFromClaims(claims)).toBeUndefined();
  });

  it('R7: an empty role list is no role', () => {
    expect(endUserFromClaims({ subject_id: 'u1', subject_role: [] })).toBeUndefined();
  });

  it('R7: a malformed id or role read from a token gives no end user', () => {
    expect(endUserFromClaims(readIuaClaims({ subject_id: 42, subject_role: [ROLE] }))).toBeUndefined();
    expect(
      endUserFromClaims(readIuaClaims({ subject_id: 'u1', subject_role: [{ display: 'x' }] })),
    ).toBeUndefined();
  });

  it('needs nothing else: purpose of use defaults to none, name and organisation are left out', () => {
    const claims: IuaClaims = { subject_id: 'u1', subject_role: [ROLE] };
    const user = endUserFromClaims(claims);
    expect(user).toStrictEqual({ id: 'u1', role: [ROLE], purposeOfUse: [] });
    expect(user).not.toHaveProperty('name');
    expect(user).not.toHaveProperty('organisation');
  });
});
