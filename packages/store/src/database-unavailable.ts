/**
 * When is a database failure the database's absence rather than a fault in the request? A
 * refused or dropped connection, a timeout (connect, statement, lock, the client-side read
 * timeout that notices a frozen server), a server shutting down or out of connections: the
 * request may succeed later, so the registry answers 503 with `Retry-After` (issue 14, point 8),
 * never a 500.
 */

/** SQLSTATE codes that mean "not now": timeouts, shutdown, no connection, too many connections. */
const UNAVAILABLE_SQLSTATES = new Set([
  '57014', // query_canceled: statement_timeout
  '55P03', // lock_not_available: lock_timeout
  '25P03', // idle_in_transaction_session_timeout
  '25006', // read_only_sql_transaction: a write reached a demoted primary (failover, issue 19)
  '57P01', // admin_shutdown
  '57P02', // crash_shutdown
  '57P03', // cannot_connect_now (starting up, recovering)
  '53300', // too_many_connections
  '08000', // connection_exception
  '08001', // sqlclient_unable_to_establish_sqlconnection
  '08003', // connection_does_not_exist
  '08004', // sqlserver_rejected_establishment_of_sqlconnection
  '08006', // connection_failure
]);

/** Socket errors of a server that is gone or unreachable. */
const UNAVAILABLE_ERRNOS = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** node-postgres' own messages for timeouts and lost connections (it gives them no code). */
const UNAVAILABLE_MESSAGES = [
  'timeout exceeded when trying to connect',
  'Connection terminated',
  'Query read timeout',
  'connection error and is not queryable',
  'Client was closed and is not queryable',
  'Connection terminated due to connection timeout',
];

/** Thrown when the registry refuses to queue more work for the database (load shedding, point 10). */
export class DatabaseBusyError extends Error {
  constructor(message = 'Too many requests are waiting for a database connection') {
    super(message);
    this.name = 'DatabaseBusyError';
  }
}

/** True when `error` (or an error it aggregates or wraps) says the database is not answering now. */
export function isDatabaseUnavailable(error: unknown, depth = 0): boolean {
  if (depth > 3 || typeof error !== 'object' || error === null) return false;
  if (error instanceof DatabaseBusyError) return true;
  const { code, message, errors, cause } = error as {
    code?: unknown;
    message?: unknown;
    errors?: unknown;
    cause?: unknown;
  };
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.has(code) || UNAVAILABLE_ERRNOS.has(code)))
    return true;
  if (typeof message === 'string' && UNAVAILABLE_MESSAGES.some((m) => message.includes(m))) return true;
  if (Array.isArray(errors) && errors.some((e) => isDatabaseUnavailable(e, depth + 1))) return true;
  return cause !== undefined && isDatabaseUnavailable(cause, depth + 1);
}
