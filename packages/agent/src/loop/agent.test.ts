import { ManualClock } from '@trellis/core';
import { CircuitBreaker } from '@trellis/resilience';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isModelProviderError, ModelProviderError } from '../errors.js';
import { UnconfiguredModel } from '../providers/from-env.js';
import { lastToolResults, ScriptedModel } from '../providers/scripted.js';
import { createExampleShopTools, ExampleShop, exampleUsers } from '../testing/example-shop.js';
import { defineTool, jsonSchemaTool } from '../tools/tool.js';
import { Agent } from './agent.js';

const alice = exampleUsers.alice;

function shopAgent(model: ScriptedModel, extra: Partial<ConstructorParameters<typeof Agent>[0]> = {}) {
  const shop = new ExampleShop();
  const agent = new Agent({
    model,
    tools: createExampleShopTools(shop),
    system: 'You are the shop assistant.',
    ...extra,
  });
  return { agent, shop };
}

describe('Agent loop with the scripted model', () => {
  it('ends on end_turn with the answer, the transcript and the usage', async () => {
    const model = new ScriptedModel([
      {
        expect: (req) => {
          expect(req.system).toBe('You are the shop assistant.');
          expect(req.messages).toEqual([{ role: 'user', content: 'Hello' }]);
          expect(req.tools.map((t) => t.name)).toEqual([
            'search_orders',
            'get_order',
            'stock_lookup',
            'cancel_order',
          ]);
        },
        reply: { text: 'Hi! How can I help?', usage: { inputTokens: 50, outputTokens: 8 } },
      },
    ]);
    const { agent } = shopAgent(model);
    const result = await agent.run({ user: alice, input: 'Hello' });
    expect(result).toMatchObject({
      status: 'completed',
      stopReason: 'end_turn',
      text: 'Hi! How can I help?',
      steps: 1,
      toolCalls: 0,
      usage: { inputTokens: 50, outputTokens: 8 },
    });
    expect(result.transcript).toEqual([
      { role: 'user', content: 'Hello' },
      { role: 'assistant', content: 'Hi! How can I help?', toolCalls: [] },
    ]);
    model.assertDone();
    const stored = await agent.getRun(result.runId, alice);
    expect(stored.status).toBe('completed');
    expect(stored.messages).toEqual(result.transcript);
  });

  it('runs parallel tool calls concurrently and returns results in call order', async () => {
    let waiting = 0;
    let release: () => void = () => {};
    const bothStarted = new Promise<void>((resolve) => {
      release = resolve;
    });
    // Each call waits until the other has started: run one after another, this would hang.
    const rendezvous = defineTool({
      name: 'rendezvous',
      description: 'waits for its twin',
      input: z.object({ name: z.string() }),
      execute: async ({ name }) => {
        if (++waiting === 2) release();
        await bothStarted;
        return { name };
      },
    });
    const model = new ScriptedModel([
      {
        reply: {
          toolCalls: [
            { name: 'rendezvous', arguments: { name: 'first' } },
            { name: 'rendezvous', arguments: { name: 'second' } },
          ],
        },
      },
      {
        expect: (req) => {
          expect(lastToolResults(req).map((r) => [r.toolCallId, r.content])).toEqual([
            ['call_1_1', '{"name":"first"}'],
            ['call_1_2', '{"name":"second"}'],
          ]);
        },
        reply: { text: 'both done' },
      },
    ]);
    const agent = new Agent({ model, tools: [rendezvous] });
    const result = await agent.run({ user: alice, input: 'go' });
    expect(result.status).toBe('completed');
    expect(result.toolCalls).toBe(2);
    model.assertDone();
  });

  it('bounds concurrency with maxParallelToolCalls', async () => {
    let active = 0;
    let peak = 0;
    const slow = defineTool({
      name: 'slow',
      description: 'takes a moment',
      input: z.object({ n: z.number() }),
      execute: async ({ n }) => {
        peak = Math.max(peak, ++active);
        await new Promise((r) => setImmediate(r));
        active--;
        return n;
      },
    });
    const calls = [1, 2, 3, 4, 5].map((n) => ({ name: 'slow', arguments: { n } }));
    const model = new ScriptedModel([{ reply: { toolCalls: calls } }, { reply: { text: 'ok' } }]);
    const agent = new Agent({ model, tools: [slow], maxParallelToolCalls: 2 });
    const result = await agent.run({ user: alice, input: 'go' });
    expect(result.status).toBe('completed');
    expect(peak).toBe(2);
  });

  it('returns invalid arguments to the model, which corrects them on the next step', async () => {
    const model = new ScriptedModel([
      { reply: { toolCalls: [{ name: 'search_orders', arguments: { status: 'lost' } }] } },
      {
        expect: (req) => {
          const [result] = lastToolResults(req);
          expect(result?.isError).toBe(true);
          expect(result?.errorCode).toBe('TOOL_INVALID_ARGUMENTS');
          const body = JSON.parse(result?.content ?? '{}');
          expect(body.error.details.issues[0].path).toBe('status');
        },
        reply: { toolCalls: [{ name: 'search_orders', arguments: { status: 'shipped' } }] },
      },
      {
        expect: (req) => {
          const [result] = lastToolResults(req);
          expect(result?.isError).toBe(false);
          expect(JSON.parse(result?.content ?? '[]')).toEqual([expect.objectContaining({ id: 'o-alice-1' })]);
        },
        reply: { text: 'Order o-alice-1 has shipped.' },
      },
    ]);
    const { agent, shop } = shopAgent(model);
    const result = await agent.run({ user: alice, input: 'What has shipped?' });
    expect(result).toMatchObject({ status: 'completed', text: 'Order o-alice-1 has shipped.', steps: 3 });
    expect(shop.calls).toHaveLength(1); // the invalid call never reached the service
    model.assertDone();
  });

  it('answers malformed JSON arguments with an error result instead of crashing', async () => {
    const model = new ScriptedModel([
      { reply: { toolCalls: [{ name: 'stock_lookup', rawArguments: '{"sku": "SKU-MUG"' }] } },
      {
        expect: (req) => lastToolResults(req)[0]?.errorCode === 'TOOL_INVALID_ARGUMENTS',
        reply: { text: 'Let me try again later.' },
      },
    ]);
    const { agent } = shopAgent(model);
    expect((await agent.run({ user: alice, input: 'stock?' })).status).toBe('completed');
    model.assertDone();
  });

  it('answers an unknown tool with an error result naming the available tools', async () => {
    const model = new ScriptedModel([
      { reply: { toolCalls: [{ name: 'delete_all_orders', arguments: {} }] } },
      {
        expect: (req) => {
          const [result] = lastToolResults(req);
          expect(result?.errorCode).toBe('TOOL_UNKNOWN');
          expect(result?.content).toContain('search_orders, get_order, stock_lookup, cancel_order');
        },
        reply: { text: 'I cannot do that.' },
      },
    ]);
    const { agent } = shopAgent(model);
    expect((await agent.run({ user: alice, input: 'delete everything' })).status).toBe('completed');
    model.assertDone();
  });

  it('turns a tool that does not finish in time into a TOOL_TIMEOUT result and aborts its work', async () => {
    const clock = new ManualClock();
    let sawAbort = false;
    const stuck = defineTool({
      name: 'stuck',
      description: 'never answers',
      input: z.object({}),
      timeoutMs: 1_000,
      execute: (_args, { signal }) =>
        new Promise((_, reject) => {
          signal.addEventListener('abort', () => {
            sawAbort = true;
            reject(signal.reason);
          });
        }),
    });
    const model = new ScriptedModel([
      { reply: { toolCalls: [{ name: 'stuck', arguments: {} }] } },
      {
        expect: (req) => {
          const [result] = lastToolResults(req);
          expect(result?.errorCode).toBe('TOOL_TIMEOUT');
          expect(result?.content).toContain('1000 ms');
        },
        reply: { text: 'The lookup timed out, sorry.' },
      },
    ]);
    const agent = new Agent({ model, tools: [stuck], clock });
    const pending = agent.run({ user: alice, input: 'go' });
    await clock.advance(1_000);
    const result = await pending;
    expect(result).toMatchObject({ status: 'completed', text: 'The lookup timed out, sorry.' });
    expect(sawAbort).toBe(true);
    expect(clock.pendingTimers()).toBe(0);
    model.assertDone();
  });

  it('hides unexpected tool errors unless exposeToolErrors is set', async () => {
    const broken = defineTool({
      name: 'broken',
      description: 'throws',
      input: z.object({}),
      execute: () => {
        throw new Error('connect ECONNREFUSED 10.0.0.7:5432 password=hunter2');
      },
    });
    for (const expose of [false, true]) {
      const model = new ScriptedModel([
        { reply: { toolCalls: [{ name: 'broken', arguments: {} }] } },
        { reply: { text: 'sorry' } },
      ]);
      const agent = new Agent({ model, tools: [broken], exposeToolErrors: expose });
      await agent.run({ user: alice, input: 'go' });
      const [result] = lastToolResults(model.requests[1]!);
      expect(result?.errorCode).toBe('TOOL_FAILED');
      expect(result?.content.includes('hunter2')).toBe(expose);
    }
  });

  it("opens a tool's breaker after repeated failures and reports it as TOOL_UNAVAILABLE", async () => {
    let calls = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 2, successThreshold: 1, timeout: 60_000 });
    const flaky = defineTool({
      name: 'flaky',
      description: 'fails',
      input: z.object({}),
      breaker,
      execute: () => {
        calls++;
        throw new Error('down');
      },
    });
    const call = { name: 'flaky', arguments: {} };
    const model = new ScriptedModel([
      { reply: { toolCalls: [call] } },
      { reply: { toolCalls: [call] } },
      { reply: { toolCalls: [call] } },
      { reply: { text: 'the service is down' } },
    ]);
    const agent = new Agent({ model, tools: [flaky] });
    await agent.run({ user: alice, input: 'go' });
    const codes = model.requests.slice(1).map((r) => lastToolResults(r)[0]?.errorCode);
    expect(codes).toEqual(['TOOL_FAILED', 'TOOL_FAILED', 'TOOL_UNAVAILABLE']);
    expect(calls).toBe(2);
  });

  it('accepts the seed form of a tool (plain JSON Schema) in the loop', async () => {
    const seedTool = jsonSchemaTool({
      name: 'search_orders',
      description: 'Search orders by customer or status',
      parameters: {
        type: 'object',
        properties: {
          customerId: { type: 'string' },
          status: { type: 'string', enum: ['pending', 'shipped', 'delivered'] },
        },
      },
      execute: async (params) => ({ received: params }),
    });
    const model = new ScriptedModel([
      {
        expect: (req) => {
          expect(req.tools[0]?.inputSchema.properties).toHaveProperty('status');
        },
        reply: { toolCalls: [{ name: 'search_orders', arguments: { status: 'nope' } }] },
      },
      {
        expect: (req) => lastToolResults(req)[0]?.errorCode === 'TOOL_INVALID_ARGUMENTS',
        reply: { toolCalls: [{ name: 'search_orders', arguments: { status: 'shipped' } }] },
      },
      {
        expect: (req) => lastToolResults(req)[0]?.content === '{"received":{"status":"shipped"}}',
        reply: { text: 'done' },
      },
    ]);
    const agent = new Agent({ model, tools: [seedTool] });
    expect((await agent.run({ user: alice, input: 'x' })).status).toBe('completed');
    model.assertDone();
  });

  it('says clearly that no model is configured, and records the failed run', async () => {
    const agent = new Agent({ model: new UnconfiguredModel(), tools: [] });
    const result = await agent.run({ user: alice, input: 'Hello?' });
    expect(result.status).toBe('failed');
    if (result.status !== 'failed') return;
    expect(result.error.code).toBe('AGENT_NO_MODEL_CONFIGURED');
    expect(result.error.status).toBe(503);
    expect(result.error.message).toMatch(/No AI model is configured.*ANTHROPIC_API_KEY/);
    expect(result.text).toBe('');
    expect((await agent.getRun(result.runId, alice)).error?.code).toBe('AGENT_NO_MODEL_CONFIGURED');
  });

  it('ends with a typed failure when the provider fails', async () => {
    const model = new ScriptedModel([{ error: new ModelProviderError('anthropic', 'overloaded', 529) }]);
    const result = await new Agent({ model, tools: [] }).run({ user: alice, input: 'x' });
    expect(result.status).toBe('failed');
    if (result.status === 'failed') expect(isModelProviderError(result.error)).toBe(true);
  });

  it('continues the conversation of a finished run', async () => {
    const model = new ScriptedModel([
      { reply: { text: 'First answer.' } },
      {
        expect: (req) => {
          expect(req.messages.map((m) => m.role)).toEqual(['user', 'assistant', 'user']);
        },
        reply: { text: 'Second answer.' },
      },
    ]);
    const { agent } = shopAgent(model);
    const first = await agent.run({ user: alice, input: 'one' });
    const second = await agent.run({ user: alice, input: 'two', continueFrom: first.runId });
    expect(second.transcript).toHaveLength(4);
    expect((await agent.getRun(second.runId, alice)).parentRunId).toBe(first.runId);
    await expect(
      agent.run({ user: exampleUsers.bob, input: 'x', continueFrom: first.runId }),
    ).rejects.toMatchObject({
      code: 'NOT_FOUND',
    });
  });

  it('rejects bad input with a ValidationError naming the field, and writes nothing', async () => {
    const { agent } = shopAgent(new ScriptedModel([]));
    await expect(agent.run({ user: alice, input: '' })).rejects.toMatchObject({
      code: 'VALIDATION_FAILED',
      issues: [expect.objectContaining({ path: 'input' })],
    });
    await expect(agent.run({ user: alice, input: 'x', limits: { maxSteps: 0 } })).rejects.toMatchObject({
      issues: [expect.objectContaining({ path: 'maxSteps' })],
    });
    expect(await agent.listRuns(alice)).toEqual([]);
  });
});
