import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SqliteDatabase } from '@trellis/sqlite';
import { afterEach, describe, expect, it } from 'vitest';
import { lastToolResults, ScriptedModel } from '../providers/scripted.js';
import { SqlRunStore } from '../store/sql-run-store.js';
import { createExampleShopTools, ExampleShop, exampleUsers } from '../testing/example-shop.js';
import { Agent } from './agent.js';
import type { AwaitingApprovalRun } from './run-result.js';

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const fixture = fileURLToPath(new URL('./fixtures/pause-for-approval.ts', import.meta.url));
const crashFixture = fileURLToPath(new URL('./fixtures/crash-mid-tool.ts', import.meta.url));

describe('approval pause and resume across a real process restart (SQLite)', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  // Spawns a real child process (tsx compiles on start): allow for a loaded CI machine.
  it('a run paused by a process that was then killed resumes in a new process with a new store', {
    timeout: 90_000,
  }, async () => {
    dir = mkdtempSync(join(tmpdir(), 'trellis-agent-restart-'));
    const file = join(dir, 'assistant.db');
    const child = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', fixture, file], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(child.signal, child.stderr).toBe('SIGKILL');
    const paused = JSON.parse(child.stdout.trim()) as AwaitingApprovalRun & { pid: number };
    expect(paused.pid).not.toBe(process.pid);
    expect(paused.status).toBe('awaiting_approval');
    expect(paused.approvals[0]).toMatchObject({
      toolName: 'cancel_order',
      description: 'Cancel order o-alice-2',
    });

    const db = SqliteDatabase.open(file);
    try {
      const store = new SqlRunStore(db);
      await store.migrate();
      const shop = new ExampleShop();
      const model = new ScriptedModel([
        {
          expect: (req) => {
            // The whole conversation came back from disk: prompt, turn, and both results in order.
            expect(req.system).toBe('Shop assistant.');
            expect(req.messages[0]).toEqual({ role: 'user', content: 'Please cancel my pending order' });
            expect(req.messages[1]).toMatchObject({
              role: 'assistant',
              content: 'I will cancel it once you confirm.',
            });
            const results = lastToolResults(req);
            expect(results.map((r) => r.toolCallId)).toEqual(['toolu_stock', 'toolu_cancel']);
            expect(JSON.parse(results[0]?.content ?? '{}')).toEqual({ sku: 'SKU-CAP', available: 4 });
            expect(JSON.parse(results[1]?.content ?? '{}')).toMatchObject({ status: 'cancelled' });
          },
          reply: { text: 'Order o-alice-2 is cancelled.' },
        },
      ]);
      const agent = new Agent({ model, tools: createExampleShopTools(shop), store });
      const listed = await agent.listRuns(exampleUsers.alice, { status: 'awaiting_approval' });
      expect(listed.map((r) => r.id)).toEqual([paused.runId]);
      const result = await agent.resume({
        runId: paused.runId,
        user: exampleUsers.alice,
        decisions: [{ approvalId: paused.approvals[0]?.id ?? '', approve: true }],
      });
      expect(result).toMatchObject({ status: 'completed', text: 'Order o-alice-2 is cancelled.', steps: 2 });
      expect(shop.orders.get('o-alice-2')?.status).toBe('cancelled');
      model.assertDone();
      // A second instance over the same file sees the finished run.
      const again = await new SqlRunStore(db).get(paused.runId);
      expect(again?.status).toBe('completed');
    } finally {
      await db.close();
    }
  });

  it('a run whose process died mid-tool is closed as interrupted, with the call on record', {
    timeout: 90_000,
  }, async () => {
    dir = mkdtempSync(join(tmpdir(), 'trellis-agent-crash-'));
    const file = join(dir, 'assistant.db');
    const child = spawnSync(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', crashFixture, file],
      {
        cwd: repoRoot,
        encoding: 'utf8',
        timeout: 60_000,
      },
    );
    expect(child.signal, child.stderr).toBe('SIGKILL');
    expect(child.stdout).toContain('crashing');

    const db = SqliteDatabase.open(file);
    try {
      const store = new SqlRunStore(db);
      const stuck = await store.get('run-crash');
      // Written ahead: the interrupted call is on record even though its step never finished.
      expect(stuck?.status).toBe('running');
      expect(stuck?.messages.at(-1)).toMatchObject({
        role: 'assistant',
        toolCalls: [{ id: 'toolu_refund' }],
      });

      const model = new ScriptedModel([
        {
          expect: (req) => {
            const [result] = lastToolResults({ ...req, messages: req.messages.slice(0, -1) });
            expect(result).toMatchObject({ toolCallId: 'toolu_refund', errorCode: 'TOOL_OUTCOME_UNKNOWN' });
          },
          reply: { text: 'I could not confirm the refund; please check your account.' },
        },
      ]);
      const agent = new Agent({ model, tools: [], store });
      expect(await agent.failInterrupted({ olderThanMs: 0 })).toEqual(['run-crash']);
      expect(await agent.failInterrupted({ olderThanMs: 0 })).toEqual([]);
      const closed = await agent.getRun('run-crash', exampleUsers.alice);
      expect(closed).toMatchObject({ status: 'failed', error: { code: 'AGENT_RUN_INTERRUPTED' } });
      const next = await agent.run({
        user: exampleUsers.alice,
        input: 'Did it work?',
        continueFrom: 'run-crash',
      });
      expect(next.status).toBe('completed');
      model.assertDone();
    } finally {
      await db.close();
    }
  });
});
