/**
 * What each base's CapabilityStatement says (issue 13 point 8): search parameters under the
 * names clients send (modifiers and chains are not names), `_count` / `_summary` as general
 * parameters, the NRL upsert, Bulk Data on the audit base, no IHE actor claimed whose required
 * options are not met, and every canonical a statement names (SearchParameter,
 * OperationDefinition, ValueSet, StructureDefinition) resolving on that base by `?url=`.
 */
import type { Bundle, CapabilityStatement, CapabilityStatementRest } from '@medplum/fhirtypes';
import { testBackends } from '@nir/store/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { R4Validator } from './clients/r4-validator.ts';
import { startTestRegistry, type TestRegistry } from './support/harness.ts';

const backends = await testBackends();
const BASES = ['producer', 'consumer', 'audit'] as const;
const RESOLVABLE = ['SearchParameter', 'OperationDefinition', 'ValueSet', 'StructureDefinition'];

/** Every canonical a statement names, with the resource type its URL says. */
function canonicals(statement: CapabilityStatement): { url: string; type: string }[] {
  const rest = statement.rest?.[0] as CapabilityStatementRest;
  const urls = [
    ...(rest.searchParam ?? []).map((p) => p.definition),
    ...(rest.operation ?? []).map((o) => o.definition),
    ...(rest.resource ?? []).flatMap((r) => [
      r.profile,
      ...(r.supportedProfile ?? []),
      ...(r.searchParam ?? []).map((p) => p.definition),
      ...(r.operation ?? []).map((o) => o.definition),
    ]),
  ].filter((url): url is string => url !== undefined);
  return [...new Set(urls)].map((url) => ({
    url,
    type: RESOLVABLE.find((t) => url.includes(`/${t}/`)) ?? '?',
  }));
}

describe.each(backends)('CapabilityStatements on $name', (backend) => {
  let t: TestRegistry;
  const statements: Record<string, CapabilityStatement> = {};
  const validator = new R4Validator();

  beforeAll(async () => {
    t = await startTestRegistry(await backend.open());
    for (const base of BASES) {
      statements[base] = (await (await t.fetch(`/${base}/FHIR/R4/metadata`)).json()) as CapabilityStatement;
    }
  });
  afterAll(async () => t?.close());

  it.each(BASES)('%s: valid R4; every canonical it names resolves on the base', async (base) => {
    const statement = statements[base] as CapabilityStatement;
    validator.check(statement, `${base} metadata`);
    const named = canonicals(statement);
    expect(named.length).toBeGreaterThan(0);
    for (const { url, type } of named) {
      expect(type, url).not.toBe('?');
      const response = await t.fetch(`/${base}/FHIR/R4/${type}?url=${encodeURIComponent(url)}`);
      expect(response.status, url).toBe(200);
      const bundle = (await response.json()) as Bundle;
      expect(bundle.total, `${base}: ${url} resolves`).toBe(1);
      validator.check(bundle, `${type}?url=${url}`);
    }
    expect(validator.errors).toEqual([]);
  });

  it.each(BASES)(
    '%s: search parameter names are names (no modifier, no chain); _count and _summary are general',
    async (base) => {
      const rest = statements[base]?.rest?.[0] as CapabilityStatementRest;
      const names = [
        ...(rest.searchParam ?? []).map((p) => p.name),
        ...(rest.resource ?? []).flatMap((r) => (r.searchParam ?? []).map((p) => p.name)),
      ];
      for (const name of names) expect(name, name).toMatch(/^_?[a-zA-Z][a-zA-Z-]*$/);
      // The producer search is NRL's: every own pointer, no paging, so it claims no _count.
      if (base !== 'producer') expect((rest.searchParam ?? []).map((p) => p.name)).toContain('_count');
      for (const r of rest.resource ?? []) {
        expect((r.searchParam ?? []).map((p) => p.name)).not.toContain('_count');
      }
    },
  );

  it('consumer and producer: patient and subject as references; NRL upsert stated; no MHD actor claimed, the unsupported options said', () => {
    for (const base of ['consumer', 'producer'] as const) {
      const statement = statements[base] as CapabilityStatement;
      const pointer = statement.rest?.[0]?.resource?.find((r) => r.type === 'DocumentReference');
      const params = Object.fromEntries((pointer?.searchParam ?? []).map((p) => [p.name, p.type]));
      expect(params).toMatchObject({
        subject: 'reference',
        patient: 'reference',
        type: 'token',
        category: 'token',
      });
      expect(statement.instantiates ?? []).toEqual([]);
      const documentation = statement.rest?.[0]?.documentation ?? '';
      for (const option of ['Binary', 'ITI-68', 'List', 'ITI-66']) expect(documentation).toContain(option);
    }
    const producer = statements.producer?.rest?.[0]?.resource?.find((r) => r.type === 'DocumentReference');
    expect(producer?.updateCreate).toBe(true);
  });

  it('audit: Bulk Data declared (instantiates bulk-data, the export operation); ITI-81 parameters listed', () => {
    const statement = statements.audit as CapabilityStatement;
    expect(statement.instantiates).toContain('http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data');
    expect(statement.rest?.[0]?.operation?.map((o) => o.name)).toContain('export');
    const events = statement.rest?.[0]?.resource?.find((r) => r.type === 'AuditEvent');
    expect((events?.searchParam ?? []).map((p) => p.name).sort()).toEqual(
      [
        'action',
        'address',
        'agent',
        'agent-name',
        'date',
        'entity',
        'outcome',
        'patient',
        'site',
        'source',
        'subtype',
        'type',
      ].sort(),
    );
  });
});
