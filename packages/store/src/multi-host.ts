/**
 * Multi-host connection strings in libpq's syntax (issue 19), which node-postgres does not
 * understand: `postgres://user@h1:5433,h2:5434/nir?target_session_attrs=read-write`. The hosts
 * are tried in order and the first whose session has the asked-for attribute is used, as libpq
 * does (PostgreSQL 14+ reports `in_hot_standby` and `default_transaction_read_only` when a
 * session starts, so the check costs no statement; older servers are asked). After a failover
 * the host found is forgotten as soon as a connection to it fails, turns out to have the wrong
 * attribute, or a write on it is refused as read-only (SQLSTATE 25006): the next connection
 * looks again, so the pool finds the new primary by itself.
 */
import pg from 'pg';

/** One host of a connection string. */
export interface HostAddress {
  host: string;
  port: number;
}

/** libpq's `target_session_attrs` values (PostgreSQL 14+). */
export const TARGET_SESSION_ATTRS = [
  'any',
  'read-write',
  'read-only',
  'primary',
  'standby',
  'prefer-standby',
] as const;

/** Which kind of server a connection string asks for. */
export type TargetSessionAttrs = (typeof TARGET_SESSION_ATTRS)[number];

/** A connection string split into its hosts. */
export interface MultiHostUrl {
  hosts: HostAddress[];
  target: TargetSessionAttrs;
  /** The connection string of one of its hosts (without `target_session_attrs`). */
  urlFor(address: HostAddress): string;
}

/** What a session says about its server. */
export interface SessionState {
  /** `transaction_read_only` (a standby's sessions are read-only too). */
  readOnly: boolean;
  /** `pg_is_in_recovery()`: the server is a standby. */
  inRecovery: boolean;
}

/** No host of the connection string answered with the session asked for (libpq's error, 08001). */
export class NoSuitableHostError extends Error {
  readonly code = '08001';

  constructor(target: TargetSessionAttrs, tried: string[]) {
    super(`no host of the connection string gave a ${target} session (tried ${tried.join('; ')})`);
    this.name = 'NoSuitableHostError';
  }
}

const DEFAULT_PORT = 5432;

function parseHost(part: string, url: string): HostAddress {
  const match = /^(\[[0-9a-fA-F:.]+\]|[^:[\]]*)(?::(\d{1,5}))?$/.exec(part);
  const port = match?.[2] === undefined ? DEFAULT_PORT : Number(match[2]);
  if (!match || port < 1 || port > 65535) {
    throw new Error(`the database URL has a malformed host '${part}' (${redact(url)})`);
  }
  return { host: (match[1] || '127.0.0.1').replace(/^\[(.*)\]$/, '$1'), port };
}

/** The URL with any password replaced, for error messages. */
function redact(url: string): string {
  return url.replace(/^([a-z]+:\/\/[^:@/]*:)[^@/]*@/i, '$1***@');
}

/**
 * Splits a PostgreSQL URL into its hosts and `target_session_attrs` (default `any`), or
 * undefined when it names one host and no target: node-postgres takes it as it is.
 */
export function parseMultiHostUrl(url: string): MultiHostUrl | undefined {
  const match = /^(postgres(?:ql)?:\/\/)([^@/?#]*@)?([^/?#]*)([^?#]*)(\?[^#]*)?$/i.exec(url);
  if (!match) return undefined;
  const [, scheme = '', userinfo = '', hostList = '', path = '', query = ''] = match;
  const params = new URLSearchParams(query.slice(1));
  const raw = params.get('target_session_attrs');
  if (!hostList.includes(',') && raw === null) return undefined;
  const target = (raw ?? 'any') as TargetSessionAttrs;
  if (!TARGET_SESSION_ATTRS.includes(target)) {
    throw new Error(`target_session_attrs must be one of ${TARGET_SESSION_ATTRS.join(', ')}, got '${raw}'`);
  }
  params.delete('target_session_attrs');
  const rest = params.toString();
  const hosts = hostList.split(',').map((part) => parseHost(part, url));
  return {
    hosts,
    target,
    urlFor: ({ host, port }) =>
      `${scheme}${userinfo}${host.includes(':') ? `[${host}]` : host}:${port}${path}${rest ? `?${rest}` : ''}`,
  };
}

/**
 * Whether a session of a server in `state` is what `target` asks for (`prefer-standby`
 * accepts a standby here; the primary only when no standby answers, see {@link HostLocator}).
 */
export function sessionMatches(target: TargetSessionAttrs, state: SessionState): boolean {
  switch (target) {
    case 'any':
      return true;
    case 'read-write':
      return !state.readOnly;
    case 'read-only':
      return state.readOnly;
    case 'primary':
      return !state.inRecovery;
    case 'standby':
    case 'prefer-standby':
      return state.inRecovery;
  }
}

/** The session's state from what the server reported at startup, or undefined (before 14). */
export function reportedState(reported: ReadonlyMap<string, string>): SessionState | undefined {
  const hotStandby = reported.get('in_hot_standby');
  const readOnly = reported.get('default_transaction_read_only');
  if (hotStandby === undefined || readOnly === undefined) return undefined;
  const inRecovery = hotStandby === 'on';
  return { inRecovery, readOnly: inRecovery || readOnly === 'on' };
}

/** Asks a connected session its state (servers before PostgreSQL 14 do not report it). */
async function askState(client: pg.Client): Promise<SessionState> {
  const { rows } = await client.query<{ read_only: string; in_recovery: boolean }>(
    "SELECT current_setting('transaction_read_only') AS read_only, pg_is_in_recovery() AS in_recovery",
  );
  return { readOnly: rows[0]?.read_only === 'on', inRecovery: rows[0]?.in_recovery === true };
}

/** A client that records the parameters its server reports (startup, and any change later). */
function recordReports(client: pg.Client, onChange?: (name: string, value: string) => void) {
  const reported = new Map<string, string>();
  const connection = (client as unknown as { connection: NodeJS.EventEmitter }).connection;
  connection.on('parameterStatus', (message: { parameterName: string; parameterValue: string }) => {
    reported.set(message.parameterName, message.parameterValue);
    onChange?.(message.parameterName, message.parameterValue);
  });
  return reported;
}

/** The state of a connected session: as reported, or asked. */
async function stateOf(client: pg.Client, reported: ReadonlyMap<string, string>): Promise<SessionState> {
  return reportedState(reported) ?? askState(client);
}

/**
 * Finds the host to connect to: the one found last while nothing says it changed, otherwise
 * the first host in order whose session matches (one short probe connection a host, shared by
 * the connections that ask at the same time).
 */
export class HostLocator {
  readonly url: MultiHostUrl;
  readonly #connectMs: number;
  #found: HostAddress | undefined;
  #finding: Promise<HostAddress> | undefined;
  /** How many times the host was looked for (tests, metrics). */
  searches = 0;

  constructor(url: MultiHostUrl, connectMs = 3000) {
    this.url = url;
    this.#connectMs = connectMs;
  }

  /** The host a new connection should use. */
  pick(): Promise<HostAddress> {
    if (this.#found) return Promise.resolve(this.#found);
    this.#finding ??= this.#find().finally(() => {
      this.#finding = undefined;
    });
    return this.#finding;
  }

  /** The host found last, if any. */
  current(): HostAddress | undefined {
    return this.#found;
  }

  /** Something showed `address` is no longer the right host: the next connection looks again. */
  forget(address: HostAddress | undefined): void {
    if (address && this.#found === address) this.#found = undefined;
  }

  async #find(): Promise<HostAddress> {
    this.searches++;
    const { target, hosts } = this.url;
    const tried: string[] = [];
    let fallback: HostAddress | undefined;
    for (const address of hosts) {
      const state = await this.#probe(address).catch((error: Error) => {
        tried.push(`${address.host}:${address.port}: ${error.message}`);
        return undefined;
      });
      if (!state) continue;
      if (sessionMatches(target, state)) {
        this.#found = address;
        return address;
      }
      tried.push(`${address.host}:${address.port}: ${state.inRecovery ? 'standby' : 'primary'}`);
      if (target === 'prefer-standby') fallback ??= address;
    }
    if (fallback) {
      this.#found = fallback;
      return fallback;
    }
    throw new NoSuitableHostError(target, tried);
  }

  async #probe(address: HostAddress): Promise<SessionState> {
    const client = new pg.Client({
      connectionString: this.url.urlFor(address),
      connectionTimeoutMillis: this.#connectMs,
    });
    const reported = recordReports(client);
    client.on('error', () => undefined);
    try {
      await client.connect();
      return await stateOf(client, reported);
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

/** A pool connection of a multi-host URL: says whether it should be discarded on release. */
export interface MultiHostConnection {
  /** True once the connection showed it is on the wrong server (demoted, read-only). */
  readonly doomed: boolean;
}

/** SQLSTATE read_only_sql_transaction: a write reached a read-only server (a demoted primary). */
export const READ_ONLY_SQLSTATE = '25006';

/**
 * The `Client` class for a `pg.Pool` over a multi-host URL: each new connection goes to the
 * host {@link HostLocator.pick} names and checks its session; a connection that fails, has the
 * wrong attribute or is refused a write as read-only makes the locator look again.
 */
export function multiHostClientClass(locator: HostLocator): typeof pg.Client {
  const { target } = locator.url;
  class MultiHostClient extends pg.Client implements MultiHostConnection {
    #address: HostAddress | undefined;
    #doomed = false;
    readonly #reported: Map<string, string>;

    constructor(config?: string | pg.ClientConfig) {
      super(config);
      this.#reported = recordReports(this, () => {
        // A server that turns read-only (or a standby) under an open session reports it.
        const state = this.#address && reportedState(this.#reported);
        if (state && !sessionMatches(target, state) && target !== 'prefer-standby') this.#doom();
      });
      // A lost connection (the server stopped, a failover): the next connection looks again.
      this.on('error', () => locator.forget(this.#address));
    }

    get doomed(): boolean {
      return this.#doomed;
    }

    #doom(): void {
      this.#doomed = true;
      locator.forget(this.#address);
    }

    async #open(): Promise<void> {
      const address = await locator.pick();
      this.#address = address;
      const self = this as unknown as { host: string; port: number; connectionParameters: HostAddress };
      self.host = address.host;
      self.port = address.port;
      self.connectionParameters.host = address.host;
      self.connectionParameters.port = address.port;
      try {
        await super.connect();
      } catch (error) {
        locator.forget(address);
        throw error;
      }
      const state = await stateOf(this, this.#reported);
      if (!sessionMatches(target, state) && target !== 'prefer-standby') {
        locator.forget(address);
        await this.end().catch(() => undefined);
        throw new NoSuitableHostError(target, [`${address.host}:${address.port}: no longer suitable`]);
      }
    }

    override connect(): Promise<pg.Client>;
    override connect(callback: (err: Error) => void): void;
    override connect(callback?: (err: Error) => void): Promise<pg.Client> | undefined {
      const opened = this.#open().then(() => this as pg.Client);
      if (!callback) return opened;
      opened.then(
        () => callback(null as unknown as Error),
        (error: Error) => callback(error),
      );
      return undefined;
    }

    // biome-ignore lint/suspicious/noExplicitAny: pg's query has a dozen overloads; this passes them through.
    override query(...args: any[]): any {
      // biome-ignore lint/suspicious/noExplicitAny: as above.
      const result = (super.query as (...a: any[]) => any)(...args);
      if (result && typeof result.then === 'function') {
        (result as Promise<unknown>).catch((error: { code?: unknown }) => {
          if (error?.code === READ_ONLY_SQLSTATE) this.#doom();
        });
      }
      return result;
    }
  }
  return MultiHostClient as unknown as typeof pg.Client;
}

/** True for a pool connection that should be discarded rather than reused. */
export function isDoomed(client: unknown): boolean {
  return (client as Partial<MultiHostConnection> | undefined)?.doomed === true;
}
