import { isTrellisError, isValidationError } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { PostgresDatabase } from './database.js';
import { DatabaseTimeoutError, isDatabaseTimeoutError, toDatabaseTimeout } from './database-timeout.js';

describe('DatabaseTimeoutError', () => {
  it('carries DB_TIMEOUT, 503 and what timed out', () => {
    const e = new DatabaseTimeoutError('query', 250);
    expect(isTrellisError(e)).toBe(true);
    expect([e.code, e.status, e.operation, e.timeoutMs]).toEqual(['DB_TIMEOUT', 503, 'query', 250]);
    expect(e.toJSON().error.details).toEqual({ operation: 'query', timeoutMs: 250 });
  });

  it('isDatabaseTimeoutError tells it apart', () => {
    expect(isDatabaseTimeoutError(new DatabaseTimeoutError('connect', 1))).toBe(true);
    expect(isDatabaseTimeoutError(new Error('Query read timeout'))).toBe(false);
    expect(isDatabaseTimeoutError(undefined)).toBe(false);
  });

  it("types pg's timeout failures and leaves others alone", () => {
    const limits = { queryTimeoutMillis: 100, connectionTimeoutMillis: 200 };
    const query = toDatabaseTimeout(new Error('Query read timeout'), limits);
    expect([query?.operation, query?.timeoutMs]).toEqual(['query', 100]);
    const pool = toDatabaseTimeout(new Error('timeout exceeded when trying to connect'), limits);
    expect([pool?.operation, pool?.timeoutMs]).toEqual(['connect', 200]);
    const open = toDatabaseTimeout(new Error('Connection terminated due to connection timeout'), limits);
    expect(open?.operation).toBe('connect');
    expect(toDatabaseTimeout(new Error('relation "x" does not exist'), limits)).toBeUndefined();
    expect(toDatabaseTimeout('Query read timeout', limits)).toBeUndefined();
  });
});

describe('PostgresDatabase.connect options', () => {
  it.each([
    ['queryTimeoutMillis', 0],
    ['connectionTimeoutMillis', -5],
    ['keepAliveInitialDelayMillis', 1.5],
  ])('refuses %s = %s with a ValidationError naming it', (name, value) => {
    let error: unknown;
    try {
      PostgresDatabase.connect('postgres://127.0.0.1:1/none', { [name]: value });
    } catch (e) {
      error = e;
    }
    expect(isValidationError(error) && error.issues.map((i) => i.path)).toEqual([name]);
  });
});

describe('PostgresDatabase.translateError', () => {
  it('types pg timeouts with the configured limits and passes anything else through', async () => {
    const db = PostgresDatabase.connect('postgres://127.0.0.1:1/none', { queryTimeoutMillis: 700 });
    const typed = db.translateError(new Error('Query read timeout'));
    expect(isDatabaseTimeoutError(typed) && typed.timeoutMs).toBe(700);
    const other = new Error('boom');
    expect(db.translateError(other)).toBe(other);
    await db.close();
  });
});
