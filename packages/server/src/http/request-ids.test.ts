import express from 'express';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { requestIds, safeId } from './request-ids.ts';

describe('safeId', () => {
  it.each([
    'abc',
    'req-1',
    '60b24f1c-8c2d-4c0e-9a54-3c3ef3a3b0f1',
    '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~',
    'x'.repeat(200),
  ])('accepts %s', (value) => {
    expect(safeId(value)).toBe(value);
  });

  it('treats a missing or empty value as missing', () => {
    expect(safeId(undefined)).toBeUndefined();
    expect(safeId('')).toBeUndefined();
  });

  it.each([
    ['a newline', 'abc\ndef'],
    ['a carriage return', 'abc\r\n{"level":50}'],
    ['a tab', 'abc\tdef'],
    ['a NUL', 'abc\u0000'],
    ['an escape', '\u001b[31mred'],
    ['DEL', 'abc\u007f'],
    ['a space', 'abc def'],
    ['only spaces', '   '],
    ['a leading space', ' abc'],
    ['non-ASCII', 'réq-1'],
    ['a Unicode line separator', 'abc\u2028def'],
    ['201 characters', 'x'.repeat(201)],
  ])('refuses %s', (_name, value) => {
    expect(safeId(value)).toBeUndefined();
  });
});

describe('requestIds middleware', () => {
  const app = express();
  app.use(requestIds);
  app.get('/ids', (_req, res) => {
    res.json({ requestId: res.locals.requestId ?? null, correlationId: res.locals.correlationId ?? null });
  });

  it('echoes safe ids and records them for the request', async () => {
    const response = await request(app)
      .get('/ids')
      .set('X-Request-Id', 'req-1')
      .set('X-Correlation-Id', 'c-9');
    expect(response.headers['x-request-id']).toBe('req-1');
    expect(response.headers['x-correlation-id']).toBe('c-9');
    expect(response.body).toEqual({ requestId: 'req-1', correlationId: 'c-9' });
  });

  it('neither echoes nor records an unsafe id', async () => {
    const response = await request(app)
      .get('/ids')
      .set('X-Request-Id', 'a b')
      .set('X-Correlation-Id', 'y'.repeat(201));
    expect(response.headers['x-request-id']).toBeUndefined();
    expect(response.headers['x-correlation-id']).toBeUndefined();
    expect(response.body).toEqual({ requestId: null, correlationId: null });
  });
});
