import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { negotiateFhirJson } from './body.ts';
import { errorHandler } from './errors.ts';

const app = express();
app.get('/thing', negotiateFhirJson, (_req, res) => {
  res.json({ ok: true });
});
app.use(errorHandler);

interface Outcome {
  resourceType: string;
  issue: { details: { coding: { code: string }[] }; expression?: string[] }[];
}

function errorCode(body: Outcome): string | undefined {
  return body.issue[0]?.details.coding[0]?.code;
}

describe('negotiateFhirJson', () => {
  it.each([
    'application/fhir+json',
    'application/json',
    'application/json+fhir',
    '*/*',
    'application/*',
    'application/fhir+xml;q=0.9, application/fhir+json',
  ])('lets Accept: %s through', async (accept) => {
    const response = await request(app).get('/thing').set('Accept', accept);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ ok: true });
  });

  // mhd-balp.md §7: the FHIR media types come with UTF-8, and a `fhirVersion=4.0` parameter is allowed.
  it.each([
    'application/fhir+json; fhirVersion=4.0',
    'application/fhir+json; charset=utf-8',
    'application/json; charset=utf-8',
  ])('lets Accept with a media type parameter through: %s', async (accept) => {
    const response = await request(app).get('/thing').set('Accept', accept);
    expect(response.status).toBe(200);
  });

  it('lets a request without Accept through', async () => {
    const response = await request(app).get('/thing').unset('Accept');
    expect(response.status).toBe(200);
  });

  it.each(['application/xml', 'application/fhir+xml', 'text/html'])(
    'refuses Accept: %s with 406 NOT_ACCEPTABLE',
    async (accept) => {
      const response = await request(app).get('/thing').set('Accept', accept);
      expect(response.status).toBe(406);
      expect(response.headers['content-type']).toMatch(/^application\/fhir\+json/);
      const body = JSON.parse(response.text) as Outcome;
      expect(body.resourceType).toBe('OperationOutcome');
      expect(errorCode(body)).toBe('NOT_ACCEPTABLE');
    },
  );

  it.each(['xml', 'application/fhir+xml', 'text/turtle', 'html'])(
    'refuses _format=%s with 406 naming _format, even when Accept is JSON',
    async (format) => {
      const response = await request(app)
        .get('/thing')
        .query({ _format: format })
        .set('Accept', 'application/fhir+json');
      expect(response.status).toBe(406);
      const body = JSON.parse(response.text) as Outcome;
      expect(errorCode(body)).toBe('NOT_ACCEPTABLE');
      expect(body.issue[0]?.expression).toEqual(['_format']);
    },
  );

  it.each([
    'json',
    'JSON',
    'application/fhir+json',
    'application/json',
    'application/fhir+json; charset=utf-8',
  ])('accepts _format=%s, which overrides Accept', async (format) => {
    const response = await request(app)
      .get('/thing')
      .query({ _format: format })
      .set('Accept', 'application/fhir+xml');
    expect(response.status).toBe(200);
  });
});
