import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { subscribe } from '@trellis/eventstore';
import { afterAll, describe, expect, it } from 'vitest';
import { SqliteDatabase } from './database.js';
import { SqliteEventStore } from './event-store.js';

const here = dirname(fileURLToPath(import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'trellis-procs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function child(file: string, name: string, count: number): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(
      process.execPath,
      [
        '--conditions=source',
        '--import',
        'tsx',
        join(here, 'event-append-child.ts'),
        file,
        name,
        String(count),
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    p.stderr.on('data', (d) => {
      stderr += String(d);
    });
    p.on('exit', (code) => resolve({ code, stderr }));
  });
}

describe('SQLite event store shared by several processes', () => {
  it('keeps one gap-free, commit-ordered log and strict stream versions under load, without SQLITE_BUSY', async () => {
    const file = join(dir, 'shared.db');
    const db = SqliteDatabase.open(file);
    const store = await SqliteEventStore.create(db);
    const seen: number[] = [];
    // This process tails the log while three others write: it only hears them by polling.
    const sub = subscribe(store, {
      handler: (e) => void seen.push(e.position),
      pollIntervalMs: 5,
      batchSize: 50,
    });
    const results = await Promise.all([child(file, 'a', 120), child(file, 'b', 120), child(file, 'c', 120)]);
    for (const r of results) expect(r.code, r.stderr).toBe(0);

    const head = await store.headPosition();
    expect(head).toBe(3 * (120 * 2 + 120)); // own events (1+2+3 per 3 appends) plus one shared event each
    await sub.waitFor(head);
    await sub.stop();
    expect(seen).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    const shared = await store.getEvents('shared');
    expect(shared.map((e) => e.version)).toEqual(Array.from({ length: 360 }, (_, i) => i + 1));
    await db.close();
  }, 60_000); // real child processes: slow on a busy machine
});
