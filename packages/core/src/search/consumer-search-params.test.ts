/**
 * Reading a consumer search (docs/consumer-api.md; nrl-behaviour.md §2.2): NRL's refusals and
 * their order, the aliases, the ITI-67 parameters and paging.
 */
import { describe, expect, it } from 'vitest';
import { isOperationOutcomeError } from '../outcomes.ts';
import { publishedSchema } from '../pointer/test-fixtures.ts';
import {
  type ConsumerSearchContext,
  type ParameterSource,
  readConsumerSearch,
} from './consumer-search-params.ts';
import { encodePageToken } from './page-token.ts';
import { compileTypeAccess } from './type-access.ts';

const SUBJECT = 'https://fhir.nhs.uk/Id/nhs-number|9000000009';
const MAULR = 'https://nicip.nhs.uk|MAULR';
const REPORT = 'http://snomed.info/sct|721981007';
const RR8 = 'https://fhir.nhs.uk/Id/ods-organization-code|RR8';

const { terminology } = publishedSchema();
function context(source: ParameterSource = 'query'): ConsumerSearchContext {
  return {
    access: compileTypeAccess({ pointerTypes: [MAULR], accessControls: [] }),
    terminology,
    maxCount: 100,
    now: Date.parse('2026-11-28T00:00:00Z'),
    source,
  };
}

function refusal(params: Record<string, unknown>, source: ParameterSource = 'query') {
  try {
    readConsumerSearch(params, context(source));
  } catch (error) {
    if (isOperationOutcomeError(error)) return { status: error.status, ...error.issues[0] };
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('readConsumerSearch', () => {
  it('reads NRL parameters and lists them in the self-link order', () => {
    const read = readConsumerSearch(
      { category: REPORT, type: MAULR, 'custodian:identifier': RR8, 'subject:identifier': SUBJECT },
      context(),
    );
    expect(read.search).toMatchObject({
      nhsNumber: '9000000009',
      types: [[MAULR]],
      categories: [[REPORT]],
      custodians: [['RR8']],
      summaryCount: false,
    });
    expect(read.used.map(([key]) => key)).toEqual([
      'subject:identifier',
      'custodian:identifier',
      'type',
      'category',
    ]);
  });

  it.each(['patient.identifier', 'patient:identifier', 'subject.identifier'])(
    'accepts the MHD alias %s',
    (key) => {
      const read = readConsumerSearch({ [key]: SUBJECT }, context());
      expect(read.search.nhsNumber).toBe('9000000009');
      expect(read.used).toEqual([['subject:identifier', SUBJECT]]);
    },
  );

  it('NRL §2.2: an unknown key is refused first, with NRL wording', () => {
    expect(refusal({ extra: '1', 'subject:identifier': 'bad' })).toMatchObject({
      status: 400,
      code: 'INVALID_PARAMETER',
      diagnostics: 'Invalid query parameter (extra: Extra inputs are not permitted)',
      expression: 'extra',
    });
  });

  it('Prefer: handling=lenient ignores unknown keys and leaves them out of the self link', () => {
    const read = readConsumerSearch(
      { extra: '1', 'subject:identifier': SUBJECT },
      { ...context(), lenient: true },
    );
    expect(read.used).toEqual([['subject:identifier', SUBJECT]]);
  });

  it('NRL §1.5: in a JSON body the same fault is MESSAGE_NOT_WELL_FORMED', () => {
    expect(refusal({ extra: '1', 'subject:identifier': SUBJECT }, 'json-body')).toMatchObject({
      code: 'MESSAGE_NOT_WELL_FORMED',
      diagnostics: 'Request body could not be parsed (extra: Extra inputs are not permitted)',
    });
  });

  it('NRL §2.2: the subject is required, in its pattern, and Modulus 11 valid', () => {
    expect(refusal({})).toMatchObject({
      code: 'INVALID_PARAMETER',
      diagnostics: 'Invalid query parameter (subject:identifier: Field required)',
      expression: 'subject:identifier',
    });
    expect(refusal({ 'subject:identifier': 'https://example.org|9000000009' })).toMatchObject({
      code: 'INVALID_PARAMETER',
    });
    expect(refusal({ 'subject:identifier': 'https://fhir.nhs.uk/Id/nhs-number|9000000001' })).toMatchObject({
      code: 'INVALID_NHS_NUMBER',
      expression: 'subject:identifier',
    });
    expect(
      refusal({ 'subject:identifier': 'https://fhir.nhs.uk/Id/nhs-number|9000000001', _summary: 'count' }),
    ).toMatchObject({ code: 'INVALID_IDENTIFIER_VALUE' });
  });

  it('R3: a type outside the grant is INVALID_CODE_SYSTEM, comparing system and code', () => {
    for (const type of ['https://nicip.nhs.uk|MAXIB', 'http://snomed.info/sct|MAULR']) {
      expect(refusal({ 'subject:identifier': SUBJECT, type })).toMatchObject({
        status: 400,
        code: 'INVALID_CODE_SYSTEM',
        expression: 'type',
      });
    }
  });

  it('FHIR R4 token forms on type: code, system|code, system|, |code, resolved within the grant (R3)', () => {
    const MAXIB = 'https://nicip.nhs.uk|MAXIB';
    const SNOMED_MAULR = 'http://snomed.info/sct|MAULR';
    const granted = (
      pointerTypes: string[],
      accessControls: 'ALLOW_ALL_TYPES'[] = [],
    ): ConsumerSearchContext => ({
      ...context(),
      access: compileTypeAccess({ pointerTypes, accessControls }),
    });
    const types = (type: string, ctx: ConsumerSearchContext) =>
      readConsumerSearch({ 'subject:identifier': SUBJECT, type }, ctx).search.types?.map((g) => g.sort());
    // A bare code matches only the granted types that carry it, in any system.
    expect(types('MAULR', granted([MAULR, MAXIB]))).toEqual([[MAULR]]);
    expect(types('MAULR', granted([MAULR, SNOMED_MAULR, MAXIB]))).toEqual([[SNOMED_MAULR, MAULR]]);
    // system| is every granted type of that system.
    expect(types('https://nicip.nhs.uk|', granted([MAULR, MAXIB, REPORT]))).toEqual([[MAULR, MAXIB]]);
    // Comma items of different forms are one OR group.
    expect(types(`MAULR,${MAXIB}`, granted([MAULR, MAXIB]))).toEqual([[MAULR, MAXIB]]);
    // A bare code of a type outside the grant, system| with no granted type, and |code (every
    // pointer type has a system) ask for nothing the caller may see: refused as a type outside the grant.
    for (const type of ['MAXIB', 'http://snomed.info/sct|', '|MAULR']) {
      expect(() => types(type, granted([MAULR]))).toThrowError(/not a type this organisation/);
    }
    // ALLOW_ALL_TYPES: a bare code resolves against every published type.
    expect(types('MAULR', granted([], ['ALLOW_ALL_TYPES']))).toEqual([[MAULR]]);
    // Not a token at all.
    expect(refusal({ 'subject:identifier': SUBJECT, type: 'a|b|c' })).toMatchObject({
      code: 'INVALID_PARAMETER',
      expression: 'type',
    });
  });

  it('FHIR R4 token forms on category: code, system|code, system|, |code', () => {
    const categories = (category: string) =>
      readConsumerSearch({ 'subject:identifier': SUBJECT, category }, context()).search.categories;
    expect(categories('721981007')).toEqual([[REPORT]]);
    expect(categories(REPORT)).toEqual([[REPORT]]);
    expect(categories('http://snomed.info/sct|')?.[0]).toContain(REPORT);
    expect(categories('http://snomed.info/sct|')?.[0]?.length).toBeGreaterThan(1);
    expect(refusal({ 'subject:identifier': SUBJECT, category: '|721981007' })).toMatchObject({
      code: 'INVALID_CODE_SYSTEM',
      expression: 'category',
    });
  });

  it('NRL §2.2: a category outside the value set is INVALID_CODE_SYSTEM', () => {
    expect(
      refusal({ 'subject:identifier': SUBJECT, category: `${REPORT},http://snomed.info/sct|1` }),
    ).toMatchObject({
      code: 'INVALID_CODE_SYSTEM',
      expression: 'category',
    });
  });

  it('custodian subset and exclusion take ODS codes in the ODS system', () => {
    const read = readConsumerSearch(
      {
        'subject:identifier': SUBJECT,
        'custodian:identifier': `${RR8},https://fhir.nhs.uk/Id/ods-organization-code|RAE`,
        'exclude-custodian': 'https://fhir.nhs.uk/Id/ods-organization-code|RAE',
      },
      context(),
    );
    expect(read.search.custodians).toEqual([['RR8', 'RAE']]);
    expect(read.search.excludedCustodians).toEqual(['RAE']);
    expect(
      refusal({ 'subject:identifier': SUBJECT, 'custodian:identifier': 'https://example.org|RR8' }),
    ).toMatchObject({
      code: 'INVALID_PARAMETER',
      expression: 'custodian:identifier',
    });
  });

  it('status takes DocumentReference status codes only', () => {
    expect(
      readConsumerSearch({ 'subject:identifier': SUBJECT, status: 'current' }, context()).search.tokens,
    ).toHaveLength(1);
    expect(refusal({ 'subject:identifier': SUBJECT, status: 'final' })).toMatchObject({
      expression: 'status',
    });
  });

  it('a repeated type, category or custodian is an AND of its values, each an OR of its commas', () => {
    const MAXIB = 'https://nicip.nhs.uk|MAXIB';
    const read = readConsumerSearch(
      {
        'subject:identifier': SUBJECT,
        type: [`${MAULR},${MAXIB}`, MAULR],
        category: [REPORT, REPORT],
        'custodian:identifier': [RR8, `${RR8},https://fhir.nhs.uk/Id/ods-organization-code|RAE`],
        'exclude-custodian': ['https://fhir.nhs.uk/Id/ods-organization-code|X1', `${RR8}`],
      },
      { ...context(), access: compileTypeAccess({ pointerTypes: [MAULR, MAXIB], accessControls: [] }) },
    );
    expect(read.search.types).toEqual([[MAULR, MAXIB], [MAULR]]);
    expect(read.search.categories).toEqual([[REPORT], [REPORT]]);
    expect(read.search.custodians).toEqual([['RR8'], ['RR8', 'RAE']]);
    expect(read.search.excludedCustodians).toEqual(['X1', 'RR8']);
    expect(read.used.filter(([key]) => key === 'type').map(([, value]) => value)).toEqual([
      `${MAULR},${MAXIB}`,
      MAULR,
    ]);
    // R3: every value of every repetition is checked against the grant.
    expect(
      refusal({ 'subject:identifier': SUBJECT, type: [MAULR, 'https://nicip.nhs.uk|MAXIB'] }),
    ).toMatchObject({ code: 'INVALID_CODE_SYSTEM', expression: 'type' });
  });

  it('a comma in a date value is an OR of its dates; period means overlap', () => {
    const read = readConsumerSearch(
      { 'subject:identifier': SUBJECT, date: '2025-01,2025-03', period: '2025-03' },
      context(),
    );
    const [date, period] = read.search.dates;
    expect(date?.formula).toHaveLength(2);
    expect(period?.formula).toEqual([
      [
        { end: 'low', op: '<', value: Date.parse('2025-04-01T00:00:00Z') },
        { end: 'high', op: '>', value: Date.parse('2025-03-01T00:00:00Z') },
      ],
    ]);
    expect(refusal({ 'subject:identifier': SUBJECT, date: '2025-01,' })).toMatchObject({
      code: 'INVALID_PARAMETER',
      expression: 'date',
    });
  });

  it('a repeated date is an AND of conditions', () => {
    const read = readConsumerSearch(
      { 'subject:identifier': SUBJECT, date: ['ge2025-01-01', 'lt2026'] },
      context(),
    );
    expect(read.search.dates.map((d) => d.parameter)).toEqual(['date', 'date']);
    expect(refusal({ 'subject:identifier': SUBJECT, period: 'xx2025' })).toMatchObject({
      code: 'INVALID_PARAMETER',
      expression: 'period',
    });
  });

  it('paging: _count is capped, _summary is count only, page tokens are checked', () => {
    const after = { createdOn: '2026-11-28T10:00:00.000Z', id: 'RR8-x' };
    const read = readConsumerSearch(
      { 'subject:identifier': SUBJECT, _count: '500', _page_token: encodePageToken(after) },
      context(),
    );
    expect(read.search.count).toBe(100);
    expect(read.search.after).toEqual(after);
    expect(refusal({ 'subject:identifier': SUBJECT, _count: '-1' })).toMatchObject({ expression: '_count' });
    expect(refusal({ 'subject:identifier': SUBJECT, _summary: 'true' })).toMatchObject({
      expression: '_summary',
    });
    expect(refusal({ 'subject:identifier': SUBJECT, _page_token: 'x' })).toMatchObject({
      expression: '_page_token',
    });
  });

  it('a value that is not a string is refused, not a 500', () => {
    expect(refusal({ 'subject:identifier': 9000000009 }, 'json-body')).toMatchObject({
      code: 'MESSAGE_NOT_WELL_FORMED',
      expression: 'subject:identifier',
    });
  });
});
