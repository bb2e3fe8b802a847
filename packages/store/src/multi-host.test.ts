import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import {
  HostLocator,
  isDoomed,
  multiHostClientClass,
  NoSuitableHostError,
  parseMultiHostUrl,
  reportedState,
  sessionMatches,
  TARGET_SESSION_ATTRS,
} from './multi-host.ts';
import { POSTGRES_ADMIN_URL, postgresReachable } from './test-databases.ts';

describe('parseMultiHostUrl (issue 19: libpq multi-host syntax)', () => {
  it('leaves a one-host URL without target_session_attrs to node-postgres', () => {
    expect(parseMultiHostUrl('postgres://postgres@127.0.0.1:5432/nir')).toBeUndefined();
    expect(parseMultiHostUrl('postgres://u:p@db.example/nir?sslmode=require')).toBeUndefined();
  });

  it('splits the hosts in order, with the default port where none is given', () => {
    const url = parseMultiHostUrl(
      'postgres://postgres@127.0.0.1:5433,db2,[::1]:5434/nir?target_session_attrs=read-write&application_name=nir',
    );
    expect(url?.target).toBe('read-write');
    expect(url?.hosts).toEqual([
      { host: '127.0.0.1', port: 5433 },
      { host: 'db2', port: 5432 },
      { host: '::1', port: 5434 },
    ]);
    // Each host's own URL keeps the user, database and other parameters, not the target.
    expect(url?.urlFor({ host: 'db2', port: 5432 })).toBe(
      'postgres://postgres@db2:5432/nir?application_name=nir',
    );
    expect(url?.urlFor({ host: '::1', port: 5434 })).toBe(
      'postgres://postgres@[::1]:5434/nir?application_name=nir',
    );
  });

  it('takes a single host with a target, and several hosts without one (any)', () => {
    expect(parseMultiHostUrl('postgresql://h:6000/nir?target_session_attrs=standby')?.target).toBe('standby');
    expect(parseMultiHostUrl('postgres://a:1,b:2/nir')?.target).toBe('any');
  });

  it('refuses an unknown target and a malformed host, without showing the password', () => {
    expect(() => parseMultiHostUrl('postgres://a,b/nir?target_session_attrs=master')).toThrow(
      /target_session_attrs/,
    );
    expect(() => parseMultiHostUrl('postgres://u:secret@a:99999,b/nir')).toThrow(/malformed host 'a:99999'/);
    expect(() => parseMultiHostUrl('postgres://u:secret@a:99999,b/nir')).not.toThrow(/secret/);
  });
});

describe('sessionMatches (libpq target_session_attrs)', () => {
  const primary = { readOnly: false, inRecovery: false };
  const standby = { readOnly: true, inRecovery: true };
  const readOnlyPrimary = { readOnly: true, inRecovery: false };
  it.each([
    ['any', [true, true, true]],
    ['read-write', [true, false, false]],
    ['read-only', [false, true, true]],
    ['primary', [true, false, true]],
    ['standby', [false, true, false]],
    ['prefer-standby', [false, true, false]],
  ] as const)('%s accepts primary, standby, read-only primary: %j', (target, expected) => {
    expect([primary, standby, readOnlyPrimary].map((s) => sessionMatches(target, s))).toEqual(expected);
  });

  it('covers every target', () => {
    expect(TARGET_SESSION_ATTRS).toHaveLength(6);
  });
});

describe('reportedState (PostgreSQL 14+ startup reports)', () => {
  it('reads in_hot_standby and default_transaction_read_only, or gives up before 14', () => {
    const reports = (standby: string, readOnly: string) =>
      new Map([
        ['in_hot_standby', standby],
        ['default_transaction_read_only', readOnly],
      ]);
    expect(reportedState(reports('off', 'off'))).toEqual({ inRecovery: false, readOnly: false });
    expect(reportedState(reports('on', 'off'))).toEqual({ inRecovery: true, readOnly: true });
    expect(reportedState(reports('off', 'on'))).toEqual({ inRecovery: false, readOnly: true });
    expect(reportedState(new Map([['server_version', '13.1']]))).toBeUndefined();
  });
});

const available = await postgresReachable();

describe.runIf(available)('HostLocator and the multi-host client on a real server', () => {
  const admin = new URL(POSTGRES_ADMIN_URL);
  const live = `${admin.hostname}:${admin.port || 5432}`;
  // A port nothing listens on: the first host is down.
  const dead = '127.0.0.1:1';
  const pools: pg.Pool[] = [];
  afterAll(async () => {
    await Promise.all(pools.map((p) => p.end()));
  });

  it('skips a host that is down and finds the read-write one', async () => {
    const url = parseMultiHostUrl(
      `postgres://${admin.username}@${dead},${live}${admin.pathname}?target_session_attrs=read-write`,
    );
    if (!url) throw new Error('not parsed');
    const locator = new HostLocator(url, 1000);
    expect(await locator.pick()).toEqual(url.hosts[1]);
    const pool = new pg.Pool({
      connectionString: url.urlFor(url.hosts[0] as never),
      Client: multiHostClientClass(locator),
      max: 2,
    });
    pools.push(pool);
    const { rows } = await pool.query<{ one: number }>('SELECT 1 AS one');
    expect(rows[0]?.one).toBe(1);
    expect(locator.searches).toBe(1);
  });

  it('refuses when no host has the session asked for (a standby, here none)', async () => {
    const url = parseMultiHostUrl(
      `postgres://${admin.username}@${dead},${live}${admin.pathname}?target_session_attrs=standby`,
    );
    if (!url) throw new Error('not parsed');
    await expect(new HostLocator(url, 1000).pick()).rejects.toBeInstanceOf(NoSuitableHostError);
  });

  it('prefer-standby falls back to the primary when no standby answers', async () => {
    const url = parseMultiHostUrl(
      `postgres://${admin.username}@${live}${admin.pathname}?target_session_attrs=prefer-standby`,
    );
    if (!url) throw new Error('not parsed');
    expect(await new HostLocator(url, 1000).pick()).toEqual(url.hosts[0]);
  });

  it('a write refused as read-only (25006) dooms the connection and makes the locator look again', async () => {
    const url = parseMultiHostUrl(
      `postgres://${admin.username}@${live}${admin.pathname}?target_session_attrs=any`,
    );
    if (!url) throw new Error('not parsed');
    const locator = new HostLocator(url, 1000);
    const Client = multiHostClientClass(locator);
    const client = new Client({ connectionString: url.urlFor(url.hosts[0] as never) });
    await client.connect();
    try {
      expect(isDoomed(client)).toBe(false);
      await client.query('BEGIN READ ONLY');
      await expect(client.query('CREATE TEMP TABLE t (x int)')).rejects.toMatchObject({ code: '25006' });
      await client.query('ROLLBACK');
      expect(isDoomed(client)).toBe(true);
      expect(locator.current()).toBeUndefined();
    } finally {
      await client.end();
    }
  });
});
