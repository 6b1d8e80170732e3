import { errorGuard, TrellisError } from '@trellis/core';

/** What timed out: a statement on a connection, or waiting for a connection. */
export type DatabaseTimeoutOperation = 'query' | 'connect';

/**
 * PostgreSQL did not answer within the configured client-side limit: a statement ran past
 * `queryTimeoutMillis`, or no connection could be had within `connectionTimeoutMillis`. HTTP 503,
 * so a service edge answers "try again" (another replica, or this one later) instead of holding
 * the request until a cut link comes back. The connection that timed out is discarded, never
 * reused; a transaction it belonged to was not committed.
 */
export class DatabaseTimeoutError extends TrellisError {
  /** Which limit was hit. */
  readonly operation: DatabaseTimeoutOperation;
  /** The limit, in milliseconds. */
  readonly timeoutMs: number;

  constructor(operation: DatabaseTimeoutOperation, timeoutMs: number, options: { cause?: unknown } = {}) {
    const what = operation === 'query' ? 'answer a query' : 'open a connection';
    super('DB_TIMEOUT', `PostgreSQL did not ${what} within ${timeoutMs} ms`, 503, {
      cause: options.cause,
      details: { operation, timeoutMs },
    });
    this.operation = operation;
    this.timeoutMs = timeoutMs;
  }
}

/** Guard for {@link DatabaseTimeoutError}. */
export const isDatabaseTimeoutError = errorGuard<DatabaseTimeoutError>('DB_TIMEOUT');

// pg and pg-pool give these failures no code, only these messages (pg 8.23: client.js, pg-pool).
const QUERY_TIMEOUT = 'Query read timeout';
const CONNECT_TIMEOUTS = new Set([
  'timeout exceeded when trying to connect',
  'Connection terminated due to connection timeout',
]);

/** The configured limits, for {@link toDatabaseTimeout}. */
export interface TimeoutLimits {
  queryTimeoutMillis?: number | undefined;
  connectionTimeoutMillis?: number | undefined;
}

/** The typed error for a pg timeout failure, or `undefined` when `err` is something else. */
export function toDatabaseTimeout(err: unknown, limits: TimeoutLimits): DatabaseTimeoutError | undefined {
  if (!(err instanceof Error)) return undefined;
  if (err.message === QUERY_TIMEOUT) {
    return new DatabaseTimeoutError('query', limits.queryTimeoutMillis ?? 0, { cause: err });
  }
  if (CONNECT_TIMEOUTS.has(err.message)) {
    return new DatabaseTimeoutError('connect', limits.connectionTimeoutMillis ?? 0, { cause: err });
  }
  return undefined;
}
