import { describe, expect, it } from 'vitest';
import { DatabaseBusyError, isDatabaseUnavailable } from './database-unavailable.ts';

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('isDatabaseUnavailable (issue 14, point 8)', () => {
  it('recognises timeouts, shutdowns and lost connections', () => {
    for (const code of ['57014', '55P03', '57P01', '57P03', '53300', '08006', '25P03', '25006']) {
      expect(isDatabaseUnavailable(pgError(code)), code).toBe(true);
    }
    expect(isDatabaseUnavailable(pgError('ECONNREFUSED'))).toBe(true);
    expect(isDatabaseUnavailable(new Error('timeout exceeded when trying to connect'))).toBe(true);
    expect(isDatabaseUnavailable(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isDatabaseUnavailable(new Error('Query read timeout'))).toBe(true);
    expect(isDatabaseUnavailable(new DatabaseBusyError())).toBe(true);
  });

  it('looks inside aggregate and wrapped errors (a refused IPv4 and IPv6 connect)', () => {
    expect(
      isDatabaseUnavailable(new AggregateError([pgError('ECONNREFUSED'), pgError('ECONNREFUSED')])),
    ).toBe(true);
    expect(isDatabaseUnavailable(new Error('wrapped', { cause: pgError('57P01') }))).toBe(true);
  });

  it('leaves real faults to be 500s: bad SQL, constraint violations, bugs', () => {
    expect(isDatabaseUnavailable(pgError('42601', 'syntax error'))).toBe(false);
    expect(isDatabaseUnavailable(pgError('23505', 'duplicate key'))).toBe(false);
    expect(isDatabaseUnavailable(pgError('22021', 'invalid byte sequence'))).toBe(false);
    expect(isDatabaseUnavailable(new TypeError('undefined is not a function'))).toBe(false);
    expect(isDatabaseUnavailable(undefined)).toBe(false);
    expect(isDatabaseUnavailable('57014')).toBe(false);
  });
});
