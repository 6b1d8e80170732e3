import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineSaga, SagaRunner, TerminalStepError } from '@trellis/saga';
import { SqliteDatabase, SqliteSagaStore } from '@trellis/sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { captureIO } from '../command.js';
import { main } from '../main.js';
import { parseSagaArgs } from './sagas-args.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const fast = { initialDelay: 0, maxDelay: 0, jitter: 'none' as const };

/** A SQLite file with one completed, one compensated and one failed `order` saga. */
async function fileWithSagas() {
  const dir = mkdtempSync(join(tmpdir(), 'trellis-cli-sagas-'));
  dirs.push(dir);
  const file = join(dir, 'orders.db');
  const db = SqliteDatabase.open(file);
  const state = { refundWorks: false };
  const saga = defineSaga<{ orderId: string; ship: boolean }>('order')
    .step({
      name: 'charge',
      execute: (ctx) => ({ paymentId: `p-${ctx.orderId}` }),
      compensate: (ctx) => {
        if (ctx.orderId === 'o3' && !state.refundWorks) throw new TerminalStepError('refund API down');
      },
    })
    .step({
      name: 'ship',
      retry: { maxAttempts: 2, backoff: fast },
      execute: (ctx) => {
        if (!ctx.ship) throw new TerminalStepError('no courier');
        return { shipmentId: 's1' };
      },
    })
    .build();
  const runner = new SagaRunner({ store: await SqliteSagaStore.create(db), worker: 'cli-test' });
  const results = [
    await runner.run(saga, { orderId: 'o1', ship: true }, { id: 'order-1' }),
    await runner.run(saga, { orderId: 'o2', ship: false }, { id: 'order-2' }),
    await runner.run(saga, { orderId: 'o3', ship: false }, { id: 'order-3' }),
  ];
  expect(results.map((r) => r.status)).toEqual(['completed', 'compensated', 'failed']);
  return { file, db, runner, state };
}

describe('trellis sagas (SQLite file)', () => {
  it('lists with totals, filters by status and prints JSON', async () => {
    const { file, runner, db } = await fileWithSagas();
    const io = captureIO();
    expect(await main(['sagas', 'list', '--db', file], io)).toBe(0);
    const lines = io.out.trim().split('\n');
    expect(lines[0]).toBe('running 0 · compensating 0 · completed 1 · compensated 1 · failed 1');
    expect(lines[1]).toMatch(/^ID\s+SAGA\s+STATUS\s+STEP\s+UPDATED\s+ERROR$/);
    expect(lines).toHaveLength(5);
    expect(io.out).toMatch(/order-3\s+order\s+failed \(was compensating\)\s+charge/);

    const failed = captureIO();
    await main(['sagas', 'list', '--db', file, '--status', 'failed', '--json'], failed);
    const parsed = JSON.parse(failed.out) as { instances: Array<{ id: string; error: { message: string } }> };
    expect(parsed.instances.map((i) => i.id)).toEqual(['order-3']);
    expect(parsed.instances[0]?.error.message).toMatch(/refund API down/);
    await runner.close();
    await db.close();
  });

  it('shows one instance with per-step attempts, errors and the timeline', async () => {
    const { file, runner, db } = await fileWithSagas();
    const io = captureIO();
    expect(await main(['sagas', 'show', 'order-2', '--db', file], io)).toBe(0);
    expect(io.out).toContain('status:      compensated');
    expect(io.out).toMatch(/charge\s+compensated\s+1\s+1/);
    expect(io.out).toMatch(/ship\s+failed\s+1\s+0\s+-\s+no courier/);
    expect(io.out).toMatch(/saga_compensated/);
    const json = captureIO();
    await main(['sagas', 'show', 'order-1', '--db', file, '--json'], json);
    expect(JSON.parse(json.out)).toMatchObject({
      instance: { status: 'completed', context: { shipmentId: 's1' } },
    });
    const missing = captureIO();
    expect(await main(['sagas', 'show', 'nope', '--db', file], missing)).toBe(1);
    expect(missing.err).toContain('No saga instance nope');
    await runner.close();
    await db.close();
  });

  it('resume sends a failed saga back, and a worker finishes it', async () => {
    const { file, runner, db, state } = await fileWithSagas();
    const io = captureIO();
    expect(await main(['sagas', 'resume', 'order-3', '--db', file, '--note', 'INC-42 fixed'], io)).toBe(0);
    expect(io.out).toContain('saga order-3 (order) is compensating again');
    const again = captureIO();
    expect(await main(['sagas', 'resume', 'order-1', '--db', file], again)).toBe(1);
    expect(again.err).toMatch(/is completed; only a failed saga can be resumed/);
    state.refundWorks = true;
    expect(await runner.recover()).toBe(1);
    expect((await runner.waitFor('order-3')).status).toBe('compensated');
    const shown = captureIO();
    await main(['sagas', 'show', 'order-3', '--db', file], shown);
    expect(shown.out).toMatch(/operator_resumed.*INC-42 fixed/);
    await runner.close();
    await db.close();
  });

  it('rejects bad usage with exit code 2 and a message naming the flag', async () => {
    const io = captureIO();
    expect(await main(['sagas', 'list', '--db', 'x.db', '--status', 'lost'], io)).toBe(2);
    expect(io.err).toMatch(/status/);
    expect(() => parseSagaArgs(['show', '--db', 'x.db'])).toThrow(/show needs a saga id/);
    expect(() => parseSagaArgs(['list', 'extra', '--db', 'x.db'])).toThrow(/Unexpected argument "extra"/);
    const none = captureIO();
    expect(await main(['sagas', 'counts', '--db', join(tmpdir(), 'missing-trellis.db')], none)).toBe(1);
    expect(none.err).toMatch(/No such SQLite file/);
  });

  it('runs through the trellis binary', async () => {
    const { file, runner, db } = await fileWithSagas();
    await runner.close();
    await db.close();
    const bin = fileURLToPath(new URL('../../bin/trellis.js', import.meta.url));
    const out = execFileSync(process.execPath, [bin, 'sagas', 'counts', '--db', file], {
      cwd: tmpdir(),
      encoding: 'utf8',
    });
    expect(out).toBe('running 0 · compensating 0 · completed 1 · compensated 1 · failed 1\n');
  });
});
