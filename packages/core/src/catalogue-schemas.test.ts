import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CATALOGUE_FILE_SCHEMA,
  CLIENT_SCHEMA,
  GRANT_SCHEMA,
  ORGANISATION_SCHEMA,
} from './catalogue-schemas.ts';
import {
  catalogueFileProblems,
  parseClientInput,
  parseGrantInput,
  parseOrganisationInput,
  pointerToExpression,
} from './catalogue-validation.ts';

const demoCatalogue: unknown = JSON.parse(
  readFileSync(new URL('../../../demo/catalogue.json', import.meta.url), 'utf8'),
);

describe('the catalogue JSON Schemas (one schema validates and documents)', () => {
  it('accept the demo catalogue file', () => {
    expect(catalogueFileProblems(demoCatalogue)).toEqual([]);
  });

  it.each([
    ['organisation', ORGANISATION_SCHEMA, parseOrganisationInput],
    ['client', CLIENT_SCHEMA, parseClientInput],
    ['grant', GRANT_SCHEMA, parseGrantInput],
  ] as const)('validate their own documented example (%s)', (_name, schema, parse) => {
    const [example] = schema.examples as unknown[];
    expect(() => parse(example)).not.toThrow();
  });

  it('name the field of a fault deep in a catalogue file', () => {
    const file = {
      organisations: [{ odsCode: 'RR8', name: 'A' }],
      clients: [
        {
          clientId: 'c-1',
          name: 'C',
          jwks: { keys: [{ kty: 'RSA', kid: 'k', n: 'n', e: 'e', d: 'secret' }] },
        },
      ],
      grants: [{ odsCode: 'RR8', role: 'producer', interactions: ['purge'] }],
      extra: 1,
      _comment: 'allowed',
    };
    expect(catalogueFileProblems(file).map((p) => p.expression)).toEqual(
      expect.arrayContaining(['clients[0].jwks.keys[0]', 'grants[0].interactions[0]', 'extra']),
    );
    expect(catalogueFileProblems(file)).toHaveLength(3);
  });

  it('list the same sections as the file reader', () => {
    expect(Object.keys(CATALOGUE_FILE_SCHEMA.properties as object)).toEqual([
      'organisations',
      'clients',
      'grants',
    ]);
  });

  it.each([
    ['', ''],
    ['/odsCode', 'odsCode'],
    ['/jwks/keys/0/kid', 'jwks.keys[0].kid'],
    ['/clients/2/organisations/1', 'clients[2].organisations[1]'],
    ['/a~1b', 'a/b'],
  ])('turn the JSON pointer %j into the expression %j', (pointer, expression) => {
    expect(pointerToExpression(pointer)).toBe(expression);
  });
});
