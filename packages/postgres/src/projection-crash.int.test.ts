import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SqlTransaction } from '@trellis/core';
import { type ProjectionContext, ProjectionRunner } from '@trellis/eventstore';
import { createTestDatabase, serverUrl } from '@trellis/testing';
import { describe, expect, it } from 'vitest';
import { PostgresCheckpointStore } from './checkpoint-store.js';
import { PostgresDatabase } from './database.js';
import { PostgresEventStore } from './event-store.js';

const here = dirname(fileURLToPath(import.meta.url));

function runChild(url: string, killAt: number): Promise<{ signal: NodeJS.Signals | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        join(here, 'projection-crash-child.ts'),
        url,
        String(killAt),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += String(d);
    });
    child.on('exit', (_code, signal) => resolve({ signal, stderr }));
  });
}

describe.skipIf(!serverUrl('postgres'))('async projection crash (PostgreSQL, real child process)', () => {
  it('loses the in-flight batch, never the checkpoint, and resumes handling each event exactly once', async () => {
    const url = await createTestDatabase('es_crash');
    const db = PostgresDatabase.connect(url);
    const store = await PostgresEventStore.create(db);
    for (let i = 0; i < 10; i++) {
      await store.append(
        `s-${i}`,
        Array.from({ length: 5 }, (_, j) => ({ eventType: 'E', payload: { i, j } })),
      );
    }

    const child = await runChild(url, 27);
    expect(child.signal, child.stderr).toBe('SIGKILL');

    const checkpoints = await PostgresCheckpointStore.create(db);
    // Batches of 10: 1–10 and 11–20 committed; 21–27 were handled but the server rolled them back.
    expect(await checkpoints.list()).toMatchObject([{ name: 'handled', position: 20 }]);
    expect(await db.query('SELECT max(position) AS m, count(*)::int AS c FROM handled')).toEqual([
      { m: 20, c: 20 },
    ]);

    const runner = new ProjectionRunner<SqlTransaction>({
      store,
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
    expect(
      await db.query('SELECT count(*)::int AS c, max(n) AS max_n, min(n) AS min_n FROM handled'),
    ).toEqual([{ c: 50, max_n: 1, min_n: 1 }]);
    await store.close();
    await db.close();
  });
});
