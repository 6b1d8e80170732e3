import { isConflictError, isValidationError } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { lastToolResults, ScriptedModel, type ScriptStep } from '../providers/scripted.js';
import { InMemoryRunStore } from '../store/memory-run-store.js';
import { createExampleShopTools, ExampleShop, exampleUsers } from '../testing/example-shop.js';
import { Agent } from './agent.js';

const { alice, bob } = exampleUsers;

/** First turn: look up stock and cancel order o-alice-2 (which needs approval). */
const askToCancel: ScriptStep = {
  reply: {
    text: 'Checking stock and cancelling.',
    toolCalls: [
      { name: 'stock_lookup', arguments: { sku: 'SKU-CAP' } },
      { name: 'cancel_order', arguments: { orderId: 'o-alice-2', reason: 'changed my mind' } },
    ],
  },
};

function setup(after: ScriptStep[] = [{ reply: { text: 'Done.' } }]) {
  const shop = new ExampleShop();
  const model = new ScriptedModel([askToCancel, ...after]);
  const agent = new Agent({ model, tools: createExampleShopTools(shop), store: new InMemoryRunStore() });
  return { shop, model, agent };
}

async function pause(agent: Agent) {
  const result = await agent.run({ user: alice, input: 'Cancel my pending order' });
  if (result.status !== 'awaiting_approval') throw new Error(`expected a pause, got ${result.status}`);
  return result;
}

describe('approvals', () => {
  it('pauses with a pending approval; calls that need none have already run', async () => {
    const { agent, shop } = setup();
    const paused = await pause(agent);
    expect(paused.approvals).toEqual([
      expect.objectContaining({
        toolName: 'cancel_order',
        arguments: { orderId: 'o-alice-2', reason: 'changed my mind' },
        description: 'Cancel order o-alice-2',
      }),
    ]);
    expect(shop.orders.get('o-alice-2')?.status).toBe('pending');
    const stored = await agent.getRun(paused.runId, alice);
    expect(stored.status).toBe('awaiting_approval');
    expect(stored.pending?.results.map((r) => r.toolName)).toEqual(['stock_lookup']);
    expect((await agent.listRuns(alice))[0]).toMatchObject({
      status: 'awaiting_approval',
      pendingApprovals: 1,
    });
  });

  it('approve + resume runs the call and hands the model every result in call order', async () => {
    const { agent, shop, model } = setup([
      {
        expect: (req) => {
          const results = lastToolResults(req);
          expect(results.map((r) => r.toolName)).toEqual(['stock_lookup', 'cancel_order']);
          expect(JSON.parse(results[1]?.content ?? '{}')).toMatchObject({
            id: 'o-alice-2',
            status: 'cancelled',
          });
        },
        reply: { text: 'Your order o-alice-2 is cancelled.' },
      },
    ]);
    const paused = await pause(agent);
    const approvalId = paused.approvals[0]?.id ?? '';
    const result = await agent.resume({
      runId: paused.runId,
      user: alice,
      decisions: [{ approvalId, approve: true }],
    });
    expect(result).toMatchObject({
      status: 'completed',
      text: 'Your order o-alice-2 is cancelled.',
      steps: 2,
      toolCalls: 2,
    });
    expect(shop.orders.get('o-alice-2')?.status).toBe('cancelled');
    const stored = await agent.getRun(paused.runId, alice);
    expect(stored.pending).toBeUndefined();
    model.assertDone();
  });

  it('reject + resume tells the model why, and nothing happens', async () => {
    const { agent, shop, model } = setup([
      {
        expect: (req) => {
          const cancel = lastToolResults(req)[1];
          expect(cancel?.errorCode).toBe('TOOL_REJECTED');
          expect(cancel?.content).toContain('not today');
        },
        reply: { text: 'OK, I left the order as it is.' },
      },
    ]);
    const paused = await pause(agent);
    await agent.decide({
      runId: paused.runId,
      user: alice,
      decisions: [{ approvalId: paused.approvals[0]?.id ?? '', approve: false, reason: 'not today' }],
    });
    const result = await agent.resume({ runId: paused.runId, user: alice });
    expect(result.status).toBe('completed');
    expect(shop.orders.get('o-alice-2')?.status).toBe('pending');
    model.assertDone();
  });

  it('guards decisions: undecided, unknown id, foreign user, staff, conflicting twice', async () => {
    const { agent } = setup();
    const paused = await pause(agent);
    const approvalId = paused.approvals[0]?.id ?? '';
    const undecided = await agent.resume({ runId: paused.runId, user: alice }).catch((e: unknown) => e);
    expect(isConflictError(undecided)).toBe(true);
    const unknown = await agent
      .decide({ runId: paused.runId, user: alice, decisions: [{ approvalId: 'nope', approve: true }] })
      .catch((e: unknown) => e);
    expect(isValidationError(unknown) && unknown.issues[0]?.path).toBe('decisions.0.approvalId');
    await expect(
      agent.decide({ runId: paused.runId, user: bob, decisions: [{ approvalId, approve: true }] }),
    ).rejects.toMatchObject({ code: 'NOT_FOUND' });
    const staff = { id: 'carol', permissions: ['agent:approve:any'] };
    const decided = await agent.decide({
      runId: paused.runId,
      user: staff,
      decisions: [{ approvalId, approve: true }],
    });
    expect(decided.pending?.approvals[0]?.decision).toMatchObject({ approved: true, decidedBy: 'carol' });
    // The same decision again is a no-op; the opposite one conflicts.
    await agent.decide({ runId: paused.runId, user: alice, decisions: [{ approvalId, approve: true }] });
    await expect(
      agent.decide({ runId: paused.runId, user: alice, decisions: [{ approvalId, approve: false }] }),
    ).rejects.toMatchObject({ code: 'CONFLICT' });
    // Only the run's own user can resume it: the tools act as that user.
    await expect(agent.resume({ runId: paused.runId, user: staff })).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('two resumes racing: exactly one runs the approved call', async () => {
    const { agent, shop } = setup();
    const paused = await pause(agent);
    await agent.decide({
      runId: paused.runId,
      user: alice,
      decisions: [{ approvalId: paused.approvals[0]?.id ?? '', approve: true }],
    });
    const outcomes = await Promise.allSettled([
      agent.resume({ runId: paused.runId, user: alice }),
      agent.resume({ runId: paused.runId, user: alice }),
    ]);
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(1);
    const rejected = outcomes.find((o) => o.status === 'rejected');
    expect(isConflictError(rejected?.status === 'rejected' ? rejected.reason : undefined)).toBe(true);
    expect(shop.calls.filter((c) => c.op === 'cancel')).toHaveLength(1);
  });

  it('an approved call is re-checked against the permissions the user has at resume time', async () => {
    const { agent, shop, model } = setup([
      {
        expect: (req) => lastToolResults(req)[1]?.errorCode === 'FORBIDDEN',
        reply: { text: 'You are no longer allowed to cancel orders.' },
      },
    ]);
    const paused = await pause(agent);
    const revoked = { id: 'alice', permissions: ['orders:read'] };
    const result = await agent.resume({
      runId: paused.runId,
      user: revoked,
      decisions: [{ approvalId: paused.approvals[0]?.id ?? '', approve: true }],
    });
    expect(result.status).toBe('completed');
    expect(shop.orders.get('o-alice-2')?.status).toBe('pending');
    model.assertDone();
  });
});
