import { describe, expect, it } from 'vitest';
import { INTERACTION_SCOPE } from './access-policy.ts';
import { INTERACTIONS, ROLE_INTERACTIONS, ROLES } from './catalogue.ts';
import {
  ADMIN_SCOPE,
  entitledScopes,
  mediateScopes,
  parseScope,
  ROLE_SCOPES,
  type ScopePermission,
  scopeCovered,
  scopePermits,
} from './scopes.ts';

const ALL: ScopePermission[] = ['c', 'r', 'u', 'd', 's'];

function permitted(scopes: string[], resourceType: string): ScopePermission[] {
  return ALL.filter((p) => scopePermits(scopes, resourceType, p));
}

describe('scopePermits (SMART v2 and v1 system scopes)', () => {
  it.each<[string, ScopePermission[]]>([
    ['system/DocumentReference.rs', ['r', 's']],
    ['system/DocumentReference.cruds', ['c', 'r', 'u', 'd', 's']],
    ['system/DocumentReference.c', ['c']],
    ['system/DocumentReference.u', ['u']],
    ['system/DocumentReference.d', ['d']],
    ['system/DocumentReference.cud', ['c', 'u', 'd']],
    ['system/DocumentReference.r', ['r']],
    ['system/DocumentReference.s', ['s']],
    // SMART v1
    ['system/DocumentReference.read', ['r', 's']],
    ['system/DocumentReference.write', ['c', 'u', 'd']],
    ['system/DocumentReference.*', ['c', 'r', 'u', 'd', 's']],
    ['system/*.read', ['r', 's']],
    ['system/*.cruds', ['c', 'r', 'u', 'd', 's']],
  ])('R18: %s permits exactly %j on DocumentReference', (scope, expected) => {
    expect(permitted([scope], 'DocumentReference')).toEqual(expected);
  });

  it('R18: a scope for one resource type gives nothing on another', () => {
    expect(permitted(['system/DocumentReference.cruds'], 'AuditEvent')).toEqual([]);
    expect(permitted(['system/AuditEvent.rs'], 'DocumentReference')).toEqual([]);
    expect(permitted(['system/AuditEvent.rs'], 'AuditEvent')).toEqual(['r', 's']);
  });

  it('R18: the v1 wildcard resource covers any resource type', () => {
    expect(permitted(['system/*.read'], 'AuditEvent')).toEqual(['r', 's']);
  });

  it.each([
    ['user/DocumentReference.rs', 'user-level scope'],
    ['patient/DocumentReference.rs', 'patient-level scope'],
    ['system/DocumentReference', 'no permissions'],
    ['system/DocumentReference.', 'empty permissions'],
    ['system/DocumentReference.sr', 'v2 letters out of order'],
    ['system/DocumentReference.rrs', 'repeated letter'],
    ['system/DocumentReference.x', 'unknown letter'],
    ['system/DocumentReference.RS', 'upper-case letters'],
    ['system/DocumentReference.rs ', 'trailing space'],
    [' system/DocumentReference.rs', 'leading space'],
    ['system/documentreference.rs', 'resource type in the wrong case'],
    ['system/DocumentReference.rs?category=http://snomed.info/sct|4201000179104', 'query constraint'],
    ['system/DocumentReference.readwrite', 'unknown v1 permission'],
    ['system/DocumentReference.constructor', 'prototype property name'],
    ['system/Document-Reference.rs', 'junk in the resource type'],
    ['xsystem/DocumentReference.rs', 'prefix'],
    ['DocumentReference.rs', 'no context'],
    ['admin/catalogue', 'admin scope'],
    ['', 'empty'],
    ['*', 'bare wildcard'],
  ])('R18: garbage scope %j (%s) permits nothing', (scope) => {
    expect(permitted([scope], 'DocumentReference')).toEqual([]);
  });

  it('R18: no scopes permit nothing', () => {
    expect(permitted([], 'DocumentReference')).toEqual([]);
  });

  it('combines several scopes', () => {
    expect(
      permitted(['junk', 'system/DocumentReference.c', 'system/DocumentReference.s'], 'DocumentReference'),
    ).toEqual(['c', 's']);
  });
});

describe('parseScope', () => {
  it('splits on any whitespace and drops empties', () => {
    expect(parseScope('system/DocumentReference.rs  system/AuditEvent.rs\tadmin/catalogue\n')).toEqual([
      'system/DocumentReference.rs',
      'system/AuditEvent.rs',
      'admin/catalogue',
    ]);
  });

  it('removes duplicates, keeping first order', () => {
    expect(parseScope('b a b a')).toEqual(['b', 'a']);
  });

  it('gives no scopes for undefined, empty or blank', () => {
    expect(parseScope(undefined)).toEqual([]);
    expect(parseScope('')).toEqual([]);
    expect(parseScope('   ')).toEqual([]);
  });
});

describe('role scopes and interactions (R18 least privilege)', () => {
  it('gives each role its scope', () => {
    expect(ROLE_SCOPES).toEqual({
      producer: ['system/DocumentReference.cruds'],
      consumer: ['system/DocumentReference.rs'],
      audit: ['system/AuditEvent.rs'],
    });
  });

  it('maps every interaction to a scope requirement', () => {
    expect(Object.keys(INTERACTION_SCOPE).sort()).toEqual([...INTERACTIONS].sort());
  });

  it.each(ROLES)("R18: the %s role's scopes permit every interaction of that role", (role) => {
    for (const interaction of ROLE_INTERACTIONS[role]) {
      const [resourceType, permission] = INTERACTION_SCOPE[interaction];
      expect(scopePermits(ROLE_SCOPES[role], resourceType, permission), interaction).toBe(true);
    }
  });

  it("R18: the consumer role's scopes permit no write and no audit interaction", () => {
    const forbidden = [
      'create',
      'upsert',
      'transaction',
      'update',
      'delete',
      'audit-search',
      'audit-export',
    ] as const;
    for (const interaction of forbidden) {
      const [resourceType, permission] = INTERACTION_SCOPE[interaction];
      expect(scopePermits(ROLE_SCOPES.consumer, resourceType, permission), interaction).toBe(false);
    }
  });

  it("R18: the audit role's scopes permit no DocumentReference interaction", () => {
    for (const interaction of [...ROLE_INTERACTIONS.producer, ...ROLE_INTERACTIONS.consumer]) {
      const [resourceType, permission] = INTERACTION_SCOPE[interaction];
      expect(scopePermits(ROLE_SCOPES.audit, resourceType, permission), interaction).toBe(false);
    }
  });
});

describe('entitledScopes', () => {
  it('unions the scopes of the roles, without duplicates', () => {
    expect(entitledScopes(['consumer', 'producer', 'consumer'], false)).toEqual([
      'system/DocumentReference.rs',
      'system/DocumentReference.cruds',
    ]);
  });

  it('adds the admin scope only for admin clients', () => {
    expect(ADMIN_SCOPE).toBe('admin/catalogue');
    expect(entitledScopes(['audit'], true)).toEqual(['system/AuditEvent.rs', 'admin/catalogue']);
    expect(entitledScopes(['audit'], false)).not.toContain('admin/catalogue');
    expect(entitledScopes([], true)).toEqual(['admin/catalogue']);
  });

  it('gives nothing to a client with no roles', () => {
    expect(entitledScopes(new Set(), false)).toEqual([]);
  });
});

describe('scopeCovered', () => {
  const producer = ['system/DocumentReference.cruds'];
  const consumer = ['system/DocumentReference.rs'];

  it('covers an exact entitled scope', () => {
    expect(scopeCovered('system/DocumentReference.rs', consumer)).toBe(true);
    expect(scopeCovered('admin/catalogue', ['admin/catalogue'])).toBe(true);
  });

  it('R18: allows down-scoping', () => {
    expect(scopeCovered('system/DocumentReference.r', consumer)).toBe(true);
    expect(scopeCovered('system/DocumentReference.s', consumer)).toBe(true);
    expect(scopeCovered('system/DocumentReference.cud', producer)).toBe(true);
    expect(scopeCovered('system/DocumentReference.read', producer)).toBe(true);
    expect(scopeCovered('system/DocumentReference.write', producer)).toBe(true);
  });

  it('R18: refuses a scope wider than the entitlement', () => {
    expect(scopeCovered('system/DocumentReference.cruds', consumer)).toBe(false);
    expect(scopeCovered('system/DocumentReference.c', consumer)).toBe(false);
    expect(scopeCovered('system/DocumentReference.write', consumer)).toBe(false);
    expect(scopeCovered('system/DocumentReference.*', consumer)).toBe(false);
    expect(scopeCovered('system/*.read', consumer)).toBe(false);
    expect(scopeCovered('system/AuditEvent.rs', consumer)).toBe(false);
  });

  it('R18: refuses the admin scope unless entitled to it', () => {
    expect(scopeCovered('admin/catalogue', producer)).toBe(false);
  });

  it('refuses garbage', () => {
    expect(scopeCovered('system/DocumentReference.sr', producer)).toBe(false);
    expect(scopeCovered('user/DocumentReference.rs', producer)).toBe(false);
    expect(scopeCovered('', producer)).toBe(false);
  });

  it('lets a wildcard entitlement cover a specific resource type', () => {
    expect(scopeCovered('system/AuditEvent.r', ['system/*.read'])).toBe(true);
  });
});

describe('mediateScopes', () => {
  const entitled = ['system/DocumentReference.rs', 'system/AuditEvent.rs'];

  it('grants every entitled scope when none is requested', () => {
    const result = mediateScopes([], entitled);
    expect(result).toEqual({ granted: entitled });
    if ('granted' in result) expect(result.granted).not.toBe(entitled);
  });

  it('grants what was requested when all of it is covered', () => {
    expect(mediateScopes(['system/DocumentReference.r'], entitled)).toEqual({
      granted: ['system/DocumentReference.r'],
    });
  });

  it('R18: names the first requested scope that is not covered', () => {
    expect(
      mediateScopes(
        ['system/DocumentReference.r', 'system/DocumentReference.c', 'admin/catalogue'],
        entitled,
      ),
    ).toEqual({ refused: 'system/DocumentReference.c' });
  });
});
