import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { SqliteDatabase } from './database.js';
import { SqliteBus } from './sqlite-bus.js';

const here = dirname(fileURLToPath(import.meta.url));

interface Child {
  proc: ChildProcess;
  deliveries: Array<{ id: string; attempt: number }>;
  ready: Promise<void>;
}

function startChild(busFile: string, ledgerFile: string): Child {
  const proc = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', join(here, 'sqlite-bus-crash-child.ts'), busFile, ledgerFile],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const deliveries: Child['deliveries'] = [];
  let buffer = '';
  let ready!: () => void;
  const readyP = new Promise<void>((r) => {
    ready = r;
  });
  proc.stdout?.on('data', (d) => {
    buffer += String(d);
    const lines = buffer.split('\n');
    buffer = lines.pop() ?? '';
    for (const line of lines) {
      if (line === 'READY') ready();
      const [tag, id, attempt] = line.split(' ');
      if (tag === 'A' && id) deliveries.push({ id, attempt: Number(attempt) });
    }
  });
  return { proc, deliveries, ready: readyP };
}

function exited(proc: ChildProcess): Promise<NodeJS.Signals | null> {
  return new Promise((r) => proc.once('exit', (_c, signal) => r(signal)));
}

describe('SqliteBus crash (real child processes, SIGKILL mid-stream)', () => {
  it('applies every message exactly once, in per-key order, across a consumer killed and restarted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trellis-bus-crash-'));
    const busFile = join(dir, 'bus.db');
    const ledgerFile = join(dir, 'ledger.db');
    const bus = await SqliteBus.open(busFile);
    // Register the group before publishing, as a deployed consumer would have.
    await (await bus.subscribe('crash.*', () => {}, { group: 'crash' })).close();
    const publish = (from: number, to: number) =>
      bus.publishBatch(
        Array.from({ length: to - from }, (_, i) => ({
          topic: 'crash.item',
          key: `k${(from + i) % 10}`,
          payload: { n: from + i },
        })),
      );
    await publish(0, 300);

    const first = startChild(busFile, ledgerFile);
    await first.ready;
    const ledger = SqliteDatabase.open(ledgerFile);
    const applied = async () =>
      (await ledger.query<{ c: number }>("SELECT COUNT(*) AS c FROM sqlite_master WHERE name = 'applied'"))[0]
        ?.c
        ? ((await ledger.query<{ c: number }>('SELECT COUNT(*) AS c FROM applied'))[0]?.c ?? 0)
        : 0;
    await expect.poll(applied, { timeout: 20_000, interval: 5 }).toBeGreaterThanOrEqual(80);
    const firstExit = exited(first.proc);
    first.proc.kill('SIGKILL');
    expect(await firstExit).toBe('SIGKILL');
    const atKill = await applied();
    expect(atKill).toBeLessThan(300);

    await publish(300, 400); // publishing goes on while no consumer runs
    const second = startChild(busFile, ledgerFile);
    await second.ready;
    await expect.poll(applied, { timeout: 30_000 }).toBe(400);
    await expect
      .poll(
        async () =>
          (await bus.db.query<{ c: number }>('SELECT COUNT(*) AS c FROM trellis_bus_deliveries'))[0]?.c,
        {
          timeout: 10_000,
        },
      )
      .toBe(0);
    const secondExit = exited(second.proc);
    second.proc.kill('SIGTERM');
    await secondExit;

    const rows = await ledger.query<{ message_id: string; k: string; n: number }>(
      'SELECT message_id, k, n FROM applied ORDER BY seq',
    );
    expect(new Set(rows.map((r) => r.message_id)).size).toBe(400);
    expect(rows.map((r) => r.n).sort((a, b) => a - b)).toEqual(Array.from({ length: 400 }, (_, i) => i));
    for (let k = 0; k < 10; k++) {
      const ns = rows.filter((r) => r.k === `k${k}`).map((r) => r.n);
      expect(ns).toEqual([...ns].sort((a, b) => a - b));
    }
    // The kill interrupted handlers: their messages came again (the inbox skipped those whose
    // effects had already committed; the count above proves none applied twice).
    // (Outcomes and the next claim share one transaction, so while a backlog exists some
    // deliveries are always leased: the kill always strands some.)
    expect(second.deliveries.filter((d) => d.attempt > 1).length).toBeGreaterThan(0);
    await ledger.close();
    await bus.close();
    rmSync(dir, { recursive: true, force: true });
  }, 90_000);
});
