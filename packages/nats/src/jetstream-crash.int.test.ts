import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { jetstreamManager } from '@nats-io/jetstream';
import { InMemoryDeadLetterStore } from '@trellis/messaging';
import { SqliteDatabase } from '@trellis/sqlite';
import { serverUrl } from '@trellis/testing';
import { describe, expect, it } from 'vitest';
import { JetStreamBus } from './jetstream-bus.js';

const url = serverUrl('nats');
const here = dirname(fileURLToPath(import.meta.url));

interface Child {
  proc: ChildProcess;
  deliveries: Array<{ id: string; attempt: number }>;
  ready: Promise<void>;
}

function startChild(args: string[]): Child {
  const proc = spawn(
    process.execPath,
    ['--conditions=source', '--import', 'tsx', join(here, 'jetstream-crash-child.ts'), ...args],
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

describe.skipIf(!url)('JetStreamBus crash (real child processes, SIGKILL mid-stream)', () => {
  it('applies every message exactly once, in per-key order, across a consumer killed and restarted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'trellis-js-crash-'));
    const stream = `CRASH${process.pid}`;
    const prefix = `crash${process.pid}`;
    const bus = await JetStreamBus.connect({
      servers: url,
      stream,
      subjectPrefix: prefix,
      partitions: 4,
      deadLetters: new InMemoryDeadLetterStore(),
    });
    // Create the group's consumers before publishing, as a deployed consumer would have.
    await (await bus.subscribe('crash.*', () => {}, { group: 'crash', visibilityTimeoutMs: 1000 })).close();
    const publish = (from: number, to: number) =>
      bus.publishBatch(
        Array.from({ length: to - from }, (_, i) => ({
          topic: 'crash.item',
          key: `k${(from + i) % 10}`,
          payload: { n: from + i },
        })),
      );
    await publish(0, 300);
    const args = [url as string, stream, prefix, dir];
    const first = startChild(args);
    await first.ready;
    const ledger = SqliteDatabase.open(join(dir, 'ledger.db'));
    const applied = async () =>
      (await ledger.query<{ c: number }>('SELECT COUNT(*) AS c FROM applied'))[0]?.c ?? 0;
    await expect.poll(applied, { timeout: 20_000, interval: 5 }).toBeGreaterThanOrEqual(80);
    const firstExit = exited(first.proc);
    first.proc.kill('SIGKILL');
    expect(await firstExit).toBe('SIGKILL');
    expect(await applied()).toBeLessThan(300);

    await publish(300, 400);
    const second = startChild(args);
    await second.ready;
    await expect.poll(applied, { timeout: 30_000 }).toBe(400);
    const jsm = await jetstreamManager(bus.connection);
    await expect
      .poll(
        async () => {
          let open = 0;
          for await (const c of jsm.consumers.list(stream)) open += c.num_pending + c.num_ack_pending;
          return open;
        },
        { timeout: 10_000 },
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
    expect(second.deliveries.filter((d) => d.attempt > 1).length).toBeGreaterThan(0);
    await jsm.streams.delete(stream);
    await ledger.close();
    await bus.close();
    rmSync(dir, { recursive: true, force: true });
  }, 90_000);
});
