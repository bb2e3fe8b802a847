import { refuse } from '@nir/core';
import express from 'express';
import pino from 'pino';
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { errorHandler } from '../http/errors.ts';
import { sendFhir } from '../http/respond.ts';
import { ResilienceCounters } from './counters.ts';
import { overloaded, shedLoad } from './load-shedding.ts';
import { databaseUnavailable } from './unavailable.ts';

describe('load shedding (issue 14, point 10)', () => {
  it('is overloaded when more wait than the pool serves in a second', () => {
    // 4 connections held 20 ms each serve 200 a second.
    expect(overloaded({ waiting: 200, size: 4, holdMs: 20 })).toBe(false);
    expect(overloaded({ waiting: 201, size: 4, holdMs: 20 })).toBe(true);
    // Slow statements (a second each): more than the pool size waiting is already a second's work.
    expect(overloaded({ waiting: 4, size: 4, holdMs: 1000 })).toBe(false);
    expect(overloaded({ waiting: 5, size: 4, holdMs: 1000 })).toBe(true);
    // A longer window (NIR_DB_QUEUE_SECONDS) tolerates a longer queue.
    expect(overloaded({ waiting: 201, size: 4, holdMs: 20 }, 2)).toBe(false);
    // No pool (PGlite): never.
    expect(overloaded(undefined)).toBe(false);
  });

  it('answers 503 with Retry-After and SERVICE_UNAVAILABLE while overloaded, counted', async () => {
    let waiting = 0;
    const counters = new ResilienceCounters();
    const app = express();
    app.use((req, _res, next) => {
      req.log = pino({ level: 'silent' });
      next();
    });
    app.use(shedLoad(() => ({ waiting, size: 2, holdMs: 500 })));
    app.get('/x', (_req, res) => sendFhir(res, 200, { ok: true }));
    app.get('/refused', () => {
      throw refuse('BAD_REQUEST', 'still the general handler');
    });
    app.use(databaseUnavailable(counters));
    app.use(errorHandler);
    expect((await request(app).get('/x')).status).toBe(200);
    waiting = 5;
    const shed = await request(app).get('/x');
    expect(shed.status).toBe(503);
    expect(shed.headers['retry-after']).toBe('5');
    expect(shed.body.issue[0].details.coding[0].code).toBe('SERVICE_UNAVAILABLE');
    expect(shed.body.issue[0].diagnostics).toMatch(/too many requests are waiting for the database/);
    expect(counters.snapshot()['load-shed']).toBe(1);
    waiting = 0;
    expect((await request(app).get('/refused')).status).toBe(400);
  });
});
