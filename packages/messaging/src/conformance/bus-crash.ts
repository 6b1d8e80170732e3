/**
 * The bus crash proof with real processes, the same for every durable transport: a child
 * consumes through an inbox and is killed with SIGKILL mid-stream; publishing goes on while no
 * consumer runs; a second child finishes. Every message is applied exactly once, in per-key
 * order, and the killed child's unacknowledged messages came again.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { SqlDatabase } from '@trellis/core';
import { expect, it } from 'vitest';
import type { Bus } from '../bus.js';

/** What a transport provides to run the crash proof. */
export interface BusCrashContext {
  /** A bus on the backend the child consumes from (registers the group, publishes). */
  bus: Bus;
  /** The child: a module calling `runBusCrashChild` (`@trellis/messaging/crash-test`). */
  entry: string;
  args: string[];
  /** Opens the ledger file the child writes (called once the child is ready). */
  openLedger(): SqlDatabase;
  /** Deliveries of group `crash` not yet acknowledged (0 once the group is drained). */
  backlog(): Promise<number>;
  /** Closes the bus and deletes the backend. */
  cleanup(): Promise<void>;
}

interface Child {
  proc: ChildProcess;
  deliveries: Array<{ id: string; attempt: number }>;
  ready: Promise<void>;
}

function startChild(entry: string, args: string[]): Child {
  const proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', entry, ...args], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
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

/**
 * Registers the crash proof as one test (call it inside a `describe`).
 *
 * @example
 * ```ts
 * describe('SqliteBus crash', () => {
 *   busCrashTest(async () => ({ bus, entry: childFile, args: [busFile, ledgerFile], openLedger, backlog, cleanup }));
 * });
 * ```
 */
export function busCrashTest(setup: () => Promise<BusCrashContext>): void {
  it('applies every message exactly once, in per-key order, across a consumer killed and restarted', async () => {
    const ctx = await setup();
    const { bus } = ctx;
    // Register the group before publishing, as a deployed consumer would have.
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

    const first = startChild(ctx.entry, ctx.args);
    await first.ready;
    const ledger = ctx.openLedger();
    const applied = async () =>
      (await ledger.query<{ c: number }>('SELECT COUNT(*) AS c FROM applied'))[0]?.c ?? 0;
    await expect.poll(applied, { timeout: 20_000, interval: 5 }).toBeGreaterThanOrEqual(80);
    const firstExit = exited(first.proc);
    first.proc.kill('SIGKILL');
    expect(await firstExit).toBe('SIGKILL');
    expect(await applied()).toBeLessThan(300);

    await publish(300, 400); // publishing goes on while no consumer runs
    const second = startChild(ctx.entry, ctx.args);
    await second.ready;
    await expect.poll(applied, { timeout: 30_000 }).toBe(400);
    await expect.poll(() => ctx.backlog(), { timeout: 10_000 }).toBe(0);
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
    expect(second.deliveries.filter((d) => d.attempt > 1).length).toBeGreaterThan(0);
    await ledger.close();
    await ctx.cleanup();
  }, 90_000);
}
