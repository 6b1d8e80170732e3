/**
 * The saga crash proof on SQLite, with real processes: a child runs many sagas and is killed
 * with SIGKILL at random moments, round after round; then one run goes to the end. Afterwards
 * every saga is terminal, no step ran with two different idempotency keys, and every step of a
 * compensated saga that took effect was compensated exactly once. Then two processes share one
 * file and the same saga ids: each step runs exactly once.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { inspectCrash, killMidway, startChild } from '@trellis/saga/crash-test';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteDatabase } from './database.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '../../..');
const entry = join(here, 'saga-crash-child.ts');
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function freshFile(): string {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-saga-crash-'));
  dirs.push(dir);
  return join(dir, 'crash.db');
}

describe('saga crash proof on SQLite (real processes, SIGKILL)', () => {
  it('every saga ends terminal, with one key per step and exact compensation, across random kills', async () => {
    const file = freshFile();
    const count = 90;
    const env = {
      TRELLIS_CRASH_DB: file,
      TRELLIS_CRASH_WORKER: 'sqlite-crash',
      TRELLIS_CRASH_COUNT: String(count),
    };
    const db = SqliteDatabase.open(file);
    const progress = async () => {
      const [row] = await db.query<{ n: number }>('SELECT COUNT(*) AS n FROM crash_calls');
      return Number(row?.n ?? 0);
    };
    let kills = 0;
    for (let round = 0; round < 6; round++) {
      const child = startChild({ entry, cwd: root, env });
      await child.waitFor('ready');
      // Kill somewhere in the middle of this round's work: after 1 to 60 more step calls.
      if ((await killMidway(child, progress, 1, 60)) !== undefined) kills++;
    }
    const last = startChild({ entry, cwd: root, env });
    await last.waitFor('done', 120_000);
    await last.exited();
    try {
      const report = await inspectCrash(db, count);
      expect(kills).toBe(6);
      // Kills landed between a step's call and its checkpoint: those steps ran again, same key.
      expect(report.repeatedCalls).toBeGreaterThan(0);
      expect(report.notTerminal).toEqual([]);
      expect(report.severalKeys).toEqual([]);
      expect(report.compensationMismatch).toEqual([]);
      expect(report.completedMismatch).toEqual([]);
      expect(report.statuses).toEqual({ completed: 60, compensated: 30 });
    } finally {
      await db.close();
    }
  }, 240_000);

  it('two processes starting the same sagas on one file run each step exactly once', async () => {
    const file = freshFile();
    const count = 30;
    // Both start their sagas at the same moment, so they race for every id.
    const startAt = String(Date.now() + 4000);
    const env = (worker: string) => ({
      TRELLIS_CRASH_DB: file,
      TRELLIS_CRASH_WORKER: worker,
      TRELLIS_CRASH_COUNT: String(count),
      TRELLIS_CRASH_START_AT: startAt,
    });
    const a = startChild({ entry, cwd: root, env: env('proc-a') });
    const b = startChild({ entry, cwd: root, env: env('proc-b') });
    await Promise.all([a.exited(), b.exited()]);
    const db = SqliteDatabase.open(file);
    try {
      const report = await inspectCrash(db, count);
      expect(report.notTerminal).toEqual([]);
      expect(report.repeatedCalls).toBe(0);
      const pids = await db.query<{ pid: number }>('SELECT DISTINCT pid FROM crash_calls');
      expect(pids.length).toBe(2);
    } finally {
      await db.close();
    }
  }, 240_000);
});
