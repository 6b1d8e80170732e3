/**
 * The saga crash proof on PostgreSQL, with real processes: the worker child is killed with
 * SIGKILL at random moments, and the database server itself is killed and restarted while a
 * fresh child is recovering (DBOS #716: a restart during recovery stranded workflows in
 * PENDING). Afterwards every saga is terminal, no step ran with two idempotency keys, and every
 * step of a compensated saga that took effect was compensated exactly once. Then two processes
 * share the same saga ids: each step runs exactly once.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspectCrash, killMidway, startChild } from '@trellis/saga/crash-test';
import { type PostgresHandle, serverUrl, startPostgres } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresDatabase } from './database.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const entry = join(here, 'saga-crash-child.ts');

describe.skipIf(!serverUrl('postgres'))('saga crash proof on PostgreSQL (real processes, SIGKILL)', () => {
  let server: PostgresHandle;
  beforeAll(async () => {
    // Durable commits: with synchronous_commit off, a killed server forgets commits it already
    // acknowledged, and no saga runner could promise anything.
    server = await startPostgres({ durable: true });
  });
  afterAll(async () => {
    await server?.destroy();
  });

  it('survives worker kills and a database restart during recovery', async () => {
    const url = await server.createDatabase('saga_crash');
    const count = 90;
    const env = {
      TRELLIS_CRASH_URL: url,
      TRELLIS_CRASH_WORKER: 'pg-crash',
      TRELLIS_CRASH_COUNT: String(count),
    };
    const db = PostgresDatabase.connect(url, { max: 2 });
    const progress = async () => {
      const [row] = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM crash_calls');
      return row?.n ?? 0;
    };
    try {
      let kills = 0;
      for (let round = 0; round < 5; round++) {
        const child = startChild({ entry, cwd: root, env });
        await child.waitFor('ready');
        if ((await killMidway(child, progress, 1, 60)) !== undefined) kills++;
      }
      // A fresh worker starts recovering; the database dies under it and comes back.
      const recovering = startChild({ entry, cwd: root, env });
      await recovering.waitFor('ready');
      await new Promise((r) => setTimeout(r, 50));
      await server.kill();
      await new Promise((r) => setTimeout(r, 500));
      await server.restart();
      await recovering.waitFor('done', 120_000);
      await recovering.exited();

      const report = await inspectCrash(db, count);
      expect(kills).toBe(5);
      expect(report.repeatedCalls).toBeGreaterThan(0);
      expect(report.notTerminal).toEqual([]);
      expect(report.severalKeys).toEqual([]);
      expect(report.compensationMismatch).toEqual([]);
      expect(report.completedMismatch).toEqual([]);
      expect(report.statuses).toEqual({ completed: 60, compensated: 30 });
    } finally {
      await db.close();
    }
  }, 300_000);

  it('two processes starting the same sagas run each step exactly once', async () => {
    const url = await server.createDatabase('saga_two');
    const count = 40;
    // Both start their sagas at the same moment, so they race for every id.
    const startAt = String(Date.now() + 4000);
    const env = (worker: string) => ({
      TRELLIS_CRASH_URL: url,
      TRELLIS_CRASH_WORKER: worker,
      TRELLIS_CRASH_COUNT: String(count),
      TRELLIS_CRASH_START_AT: startAt,
    });
    const a = startChild({ entry, cwd: root, env: env('proc-a') });
    const b = startChild({ entry, cwd: root, env: env('proc-b') });
    await Promise.all([a.exited(), b.exited()]);
    const db = PostgresDatabase.connect(url, { max: 2 });
    try {
      const report = await inspectCrash(db, count);
      expect(report.notTerminal).toEqual([]);
      expect(report.repeatedCalls).toBe(0);
      const pids = await db.query<{ pid: number }>('SELECT DISTINCT pid FROM crash_calls');
      expect(pids.length).toBe(2);
    } finally {
      await db.close();
    }
  }, 300_000);
});
