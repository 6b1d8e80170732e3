import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqlTransaction } from '@trellis/core';
import { type ProjectionContext, ProjectionRunner } from '@trellis/eventstore';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteCheckpointStore } from './checkpoint-store.js';
import { SqliteDatabase } from './database.js';
import { SqliteEventStore } from './event-store.js';

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'trellis-crash-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('async projection crash (SQLite, real child process)', () => {
  it('loses the in-flight batch, never the checkpoint, and resumes handling each event exactly once', async () => {
    const file = join(dir, 'crash.db');
    const db = SqliteDatabase.open(file);
    const store = await SqliteEventStore.create(db);
    for (let i = 0; i < 10; i++) {
      await store.append(
        `s-${i}`,
        Array.from({ length: 5 }, (_, j) => ({ eventType: 'E', payload: { i, j } })),
      );
    }
    await db.close();

    const child = spawnSync(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', join(here, 'projection-crash-child.ts'), file, '27'],
      { encoding: 'utf8', timeout: 60_000 },
    );
    expect(child.signal, child.stderr).toBe('SIGKILL');

    const after = SqliteDatabase.open(file);
    const checkpoints = await SqliteCheckpointStore.create(after);
    // Batches of 10: 1–10 and 11–20 committed; 21–27 were handled but never committed.
    expect(await checkpoints.list()).toMatchObject([{ name: 'handled', position: 20 }]);
    expect(await after.query('SELECT max(position) AS m, count(*) AS c FROM handled')).toEqual([
      { m: 20, c: 20 },
    ]);

    const resumed = await SqliteEventStore.create(after);
    const runner = new ProjectionRunner<SqlTransaction>({
      store: resumed,
      checkpoints,
      projection: {
        name: 'handled',
        table: 'handled',
        project: async (e, { tx }: ProjectionContext) => {
          await tx.execute(
            'INSERT INTO handled (position, n) VALUES ($1, 1) ON CONFLICT (position) DO UPDATE SET n = handled.n + 1',
            [e.position],
          );
        },
      },
    });
    expect(await runner.catchUp()).toBe(50);
    expect(await after.query('SELECT count(*) AS c, max(n) AS maxN, min(n) AS minN FROM handled')).toEqual([
      { c: 50, maxN: 1, minN: 1 },
    ]);
    await after.close();
  }, 60_000); // real child processes: slow on a busy machine
});
