import { isTrellisError } from '@trellis/core';
import { createTestDatabase, serverUrl } from '@trellis/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { PostgresDatabase } from './database.js';
import { isDatabaseTimeoutError } from './database-timeout.js';
import { StallProxy } from './stall-proxy.js';

const available = serverUrl('postgres');

/** Polls `check` until it holds (a test timeout, not a timing assertion, bounds it). */
async function eventually(check: () => Promise<boolean>): Promise<void> {
  while (!(await check())) await new Promise((r) => setTimeout(r, 50));
}

describe.skipIf(!available)('PostgresDatabase timeouts over a link that goes silent', () => {
  let url: string;
  let proxy: StallProxy;
  let admin: PostgresDatabase;

  beforeAll(async () => {
    url = await createTestDatabase('uow_timeout');
    const target = new URL(url);
    proxy = await StallProxy.start(target.hostname, Number(target.port));
    admin = PostgresDatabase.connect(url, { max: 2 });
    await admin.execute('CREATE TABLE IF NOT EXISTS cut (id TEXT PRIMARY KEY)');
  });

  afterAll(async () => {
    await admin?.close();
    await proxy?.close();
  });

  beforeEach(() => proxy.resume());

  async function pidOf(db: PostgresDatabase): Promise<number> {
    const [row] = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return row?.pid ?? -1;
  }

  async function backendGone(pid: number): Promise<boolean> {
    const rows = await admin.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid]);
    return rows.length === 0;
  }

  it('a query on a stalled link fails with DatabaseTimeoutError (503); the pool opens a fresh connection after', async () => {
    const db = PostgresDatabase.connect(proxy.urlFor(url), {
      max: 1,
      queryTimeoutMillis: 300,
      connectionTimeoutMillis: 300,
      keepAlive: true,
      keepAliveInitialDelayMillis: 1000,
    });
    try {
      const before = await pidOf(db);
      proxy.stall();
      const error = await db.query('SELECT 1').catch((e: unknown) => e);
      expect(isDatabaseTimeoutError(error)).toBe(true);
      expect(isTrellisError(error) && [error.code, error.status]).toEqual(['DB_TIMEOUT', 503]);
      expect(isDatabaseTimeoutError(error) && [error.operation, error.timeoutMs]).toEqual(['query', 300]);
      // The next statement needs a new connection (the old one was destroyed), which the silent
      // link does not give within connectionTimeoutMillis.
      const next = await db.execute('SELECT 1').catch((e: unknown) => e);
      expect(isDatabaseTimeoutError(next) && next.operation).toBe('connect');
      proxy.resume();
      // The timed-out connection was destroyed, not pooled again: with max 1, another backend answers.
      const after = await pidOf(db);
      expect(after).not.toBe(before);
      expect(await db.query('SELECT 2 AS two')).toEqual([{ two: 2 }]);
      await eventually(() => backendGone(before));
    } finally {
      proxy.resume();
      await db.close();
    }
  });

  it('a transaction whose statement times out rejects, commits nothing, and its connection is not reused', async () => {
    const db = PostgresDatabase.connect(proxy.urlFor(url), { max: 1, queryTimeoutMillis: 300 });
    try {
      let pid = -1;
      const committed: string[] = [];
      const error = await db
        .transaction(async (tx) => {
          tx.afterCommit(() => committed.push('tx'));
          const [row] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          pid = row?.pid ?? -1;
          await tx.execute('INSERT INTO cut (id) VALUES ($1)', ['written-before-the-cut']);
          proxy.stall();
          await tx.execute('INSERT INTO cut (id) VALUES ($1)', ['written-during-the-cut']);
        })
        .catch((e: unknown) => e);
      expect(isDatabaseTimeoutError(error)).toBe(true);
      expect(committed).toEqual([]);
      proxy.resume();
      // The session ends once the link is back; PostgreSQL aborts its open transaction.
      await eventually(() => backendGone(pid));
      expect(await admin.query('SELECT id FROM cut')).toEqual([]);
      // The pool is usable and hands out a different connection.
      expect(
        await db.transaction((tx) => tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')),
      ).not.toEqual([{ pid }]);
    } finally {
      proxy.resume();
      await db.close();
    }
  });

  it('a callback that swallows the timeout still does not commit', async () => {
    const db = PostgresDatabase.connect(proxy.urlFor(url), { max: 1, queryTimeoutMillis: 300 });
    try {
      const error = await db
        .transaction(async (tx) => {
          await tx.execute('INSERT INTO cut (id) VALUES ($1)', ['swallowed']);
          proxy.stall();
          await tx.execute('SELECT 1').catch(() => undefined);
          proxy.resume();
          // Later statements on that connection are refused at once.
          await expect(tx.execute('SELECT 1')).rejects.toSatisfy(isDatabaseTimeoutError);
        })
        .catch((e: unknown) => e);
      expect(isDatabaseTimeoutError(error)).toBe(true);
      expect(await db.query('SELECT 3 AS three')).toEqual([{ three: 3 }]);
      expect(await admin.query('SELECT id FROM cut')).toEqual([]);
    } finally {
      proxy.resume();
      await db.close();
    }
  });

  it('opening a connection over a stalled link fails with DatabaseTimeoutError after connectionTimeoutMillis', async () => {
    const db = PostgresDatabase.connect(proxy.urlFor(url), { max: 1, connectionTimeoutMillis: 300 });
    try {
      proxy.stall();
      const error = await db.query('SELECT 1').catch((e: unknown) => e);
      expect(isDatabaseTimeoutError(error) && [error.operation, error.timeoutMs]).toEqual(['connect', 300]);
      const inTx = await db.transaction(async () => undefined).catch((e: unknown) => e);
      expect(isDatabaseTimeoutError(inTx) && inTx.operation).toBe('connect');
      proxy.resume();
      expect(await db.query('SELECT 4 AS four')).toEqual([{ four: 4 }]);
    } finally {
      proxy.resume();
      await db.close();
    }
  });

  it('without timeouts (the default) a statement waits for the link to come back', async () => {
    const db = PostgresDatabase.connect(proxy.urlFor(url), { max: 1 });
    try {
      await db.query('SELECT 1');
      proxy.stall();
      let settled = false;
      const pending = db.query<{ five: number }>('SELECT 5 AS five').finally(() => {
        settled = true;
      });
      await new Promise((r) => setTimeout(r, 500));
      expect(settled).toBe(false);
      proxy.resume();
      expect(await pending).toEqual([{ five: 5 }]);
    } finally {
      proxy.resume();
      await db.close();
    }
  });
});
