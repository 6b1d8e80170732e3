import { isAbortedError, ManualClock } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { isAgentLimitExceededError } from '../errors.js';
import type { Message } from '../messages.js';
import { ScriptedModel } from '../providers/scripted.js';
import { createExampleShopTools, ExampleShop, exampleUsers } from '../testing/example-shop.js';
import { Agent } from './agent.js';

const alice = exampleUsers.alice;
const lookup = { name: 'stock_lookup', arguments: { sku: 'SKU-MUG' } };

/** Every tool call in a transcript has a result: the transcript can be sent to a provider as is. */
function expectWellFormed(transcript: Message[]): void {
  const calls = transcript.flatMap((m) => (m.role === 'assistant' ? m.toolCalls.map((c) => c.id) : []));
  const results = transcript.flatMap((m) => (m.role === 'tool' ? m.results.map((r) => r.toolCallId) : []));
  expect(results).toEqual(calls);
}

function agentWith(model: ScriptedModel, clock = new ManualClock()) {
  return new Agent({ model, tools: createExampleShopTools(new ExampleShop()), clock });
}

describe('run limits end the run with a typed result and the transcript', () => {
  it('max steps: a model that never stops ends as limit_exceeded with everything so far', async () => {
    const model = new ScriptedModel(Array.from({ length: 3 }, () => ({ toolCalls: [lookup] })));
    const result = await agentWith(model).run({
      user: alice,
      input: 'loop forever',
      limits: { maxSteps: 3 },
    });
    expect(result.status).toBe('limit_exceeded');
    if (result.status !== 'limit_exceeded') return;
    expect(isAgentLimitExceededError(result.error)).toBe(true);
    expect(result.error).toMatchObject({
      code: 'AGENT_LIMIT_EXCEEDED',
      status: 422,
      limit: 'maxSteps',
      value: 3,
    });
    expect(result.steps).toBe(3);
    // Two steps ran their tool; the third step's call was closed without running.
    expect(result.toolCalls).toBe(2);
    const last = result.transcript.at(-1);
    expect(last?.role === 'tool' && last.results[0]?.errorCode).toBe('TOOL_NOT_EXECUTED');
    expectWellFormed(result.transcript);
    model.assertDone();
  });

  it('max tool calls: a turn that would exceed the limit ends the run before running any of it', async () => {
    const model = new ScriptedModel([{ toolCalls: [lookup] }, { toolCalls: [lookup, lookup] }]);
    const result = await agentWith(model).run({ user: alice, input: 'x', limits: { maxToolCalls: 2 } });
    expect(result).toMatchObject({
      status: 'limit_exceeded',
      toolCalls: 1,
      error: { limit: 'maxToolCalls', value: 2 },
    });
    expectWellFormed(result.transcript);
  });

  it('token budget: usage over the budget ends the run after the model call', async () => {
    const model = new ScriptedModel([
      { toolCalls: [lookup], usage: { inputTokens: 400, outputTokens: 50 } },
      { toolCalls: [lookup], usage: { inputTokens: 500, outputTokens: 60 } },
    ]);
    const result = await agentWith(model).run({ user: alice, input: 'x', limits: { tokenBudget: 1_000 } });
    expect(result).toMatchObject({
      status: 'limit_exceeded',
      usage: { inputTokens: 900, outputTokens: 110 },
      error: { limit: 'tokenBudget', value: 1_000 },
      steps: 2,
      toolCalls: 1,
    });
    expectWellFormed(result.transcript);
  });

  it('deadline: a model call still running when time is up is aborted and the run ends', async () => {
    const clock = new ManualClock();
    const model = new ScriptedModel([{ toolCalls: [lookup] }, { hang: true }]);
    const pending = agentWith(model, clock).run({ user: alice, input: 'x', limits: { deadlineMs: 5_000 } });
    await clock.advance(5_000);
    const result = await pending;
    expect(result).toMatchObject({
      status: 'limit_exceeded',
      steps: 1,
      error: { limit: 'deadline', value: 5_000 },
    });
    expectWellFormed(result.transcript);
    expect(clock.pendingTimers()).toBe(0);
  });

  it('the limit result is persisted: the stored run says which limit, and why', async () => {
    const model = new ScriptedModel([{ toolCalls: [lookup] }]);
    const agent = agentWith(model);
    const result = await agent.run({ user: alice, input: 'x', limits: { maxSteps: 1 } });
    const stored = await agent.getRun(result.runId, alice);
    expect(stored).toMatchObject({
      status: 'limit_exceeded',
      error: { code: 'AGENT_LIMIT_EXCEEDED', details: { limit: 'maxSteps', value: 1 } },
    });
  });

  it('a caller cancelling ends the run as failed with ABORTED', async () => {
    const model = new ScriptedModel([{ hang: true }]);
    const controller = new AbortController();
    const pending = agentWith(model).run({ user: alice, input: 'x', signal: controller.signal });
    await new Promise((r) => setImmediate(r));
    controller.abort();
    const result = await pending;
    expect(result.status).toBe('failed');
    if (result.status === 'failed') expect(isAbortedError(result.error)).toBe(true);
  });
});
