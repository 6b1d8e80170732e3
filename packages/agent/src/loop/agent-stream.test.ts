import { isAbortedError } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { ScriptedModel, type ScriptStep } from '../providers/scripted.js';
import { createExampleShopTools, ExampleShop, exampleUsers } from '../testing/example-shop.js';
import { Agent } from './agent.js';
import type { AgentEvent } from './events.js';

const { alice } = exampleUsers;

const script = (): ScriptStep[] => [
  {
    reply: {
      text: 'Let me check both.',
      toolCalls: [
        { name: 'stock_lookup', arguments: { sku: 'SKU-MUG' } },
        { name: 'search_orders', arguments: { status: 'shipped' } },
      ],
    },
  },
  { reply: { text: 'You have 12 mugs in stock and one shipped order.' } },
];

async function collect(stream: AsyncIterable<AgentEvent>): Promise<AgentEvent[]> {
  const events: AgentEvent[] = [];
  for await (const e of stream) events.push(e);
  return events;
}

const newAgent = (steps: ScriptStep[]) =>
  new Agent({
    model: new ScriptedModel(steps, { chunkSize: 3 }),
    tools: createExampleShopTools(new ExampleShop()),
  });

describe('streaming runs (one loop for both paths)', () => {
  it('reports text, tool and step events in order, ending with the result', async () => {
    const stream = newAgent(script()).stream({ user: alice, input: 'stock and orders?' });
    const events = await collect(stream);
    const kinds = events.map((e) => e.type).filter((t, i, all) => t !== all[i - 1]);
    expect(kinds).toEqual([
      'run-started',
      'step-started',
      'text-delta',
      'tool-call-delta',
      'tool-call',
      'step-finished',
      'tool-result',
      'step-started',
      'text-delta',
      'step-finished',
      'run-finished',
    ]);
    const text = events.flatMap((e) => (e.type === 'text-delta' && e.step === 2 ? [e.text] : [])).join('');
    expect(text).toBe('You have 12 mugs in stock and one shipped order.');
    const finished = events.at(-1);
    const result = await stream.result;
    expect(finished).toEqual({ type: 'run-finished', runId: stream.runId, result });
    expect(result.status).toBe('completed');
  });

  it('streaming and non-streaming runs of the same script end identically', async () => {
    const plain = await newAgent(script()).run({ user: alice, input: 'stock and orders?', runId: 'same' });
    const streamed = newAgent(script()).stream({ user: alice, input: 'stock and orders?', runId: 'same' });
    await collect(streamed);
    expect(await streamed.result).toEqual(plain);
  });

  it('parallel tool calls streamed interleaved arrive intact, each under its own call id', async () => {
    const stream = newAgent(script()).stream({ user: alice, input: 'x' });
    const events = await collect(stream);
    const args = new Map<string, string>();
    for (const e of events) {
      if (e.type === 'tool-call-delta')
        args.set(e.toolCallId, (args.get(e.toolCallId) ?? '') + e.argumentsDelta);
    }
    // The scripted model interleaves the two calls' argument pieces, like a parallel stream.
    const order = events.flatMap((e) => (e.type === 'tool-call-delta' ? [e.toolCallId] : []));
    expect(order.slice(0, 2)).toEqual(['call_1_1', 'call_1_2']);
    expect(JSON.parse(args.get('call_1_1') ?? '')).toEqual({ sku: 'SKU-MUG' });
    expect(JSON.parse(args.get('call_1_2') ?? '')).toEqual({ status: 'shipped' });
    const results = events.flatMap((e) => (e.type === 'tool-result' ? [e.result] : []));
    expect(results.map((r) => [r.toolCallId, r.isError])).toEqual(
      expect.arrayContaining([
        ['call_1_1', false],
        ['call_1_2', false],
      ]),
    );
  });

  it('pauses for approval while streaming and resumes as a stream', async () => {
    const shop = new ExampleShop();
    const agent = new Agent({
      model: new ScriptedModel([
        { reply: { toolCalls: [{ name: 'cancel_order', arguments: { orderId: 'o-alice-2' } }] } },
        { reply: { text: 'Cancelled.' } },
      ]),
      tools: createExampleShopTools(shop),
    });
    const first = agent.stream({ user: alice, input: 'cancel o-alice-2' });
    const events = await collect(first);
    const approvalEvent = events.find((e) => e.type === 'approval-required');
    expect(approvalEvent?.type === 'approval-required' && approvalEvent.approvals[0]?.toolName).toBe(
      'cancel_order',
    );
    const paused = await first.result;
    expect(paused.status).toBe('awaiting_approval');
    expect(events.some((e) => e.type === 'tool-result')).toBe(false);
    const approvalId = paused.status === 'awaiting_approval' ? (paused.approvals[0]?.id ?? '') : '';

    const second = agent.resumeStream({
      runId: paused.runId,
      user: alice,
      decisions: [{ approvalId, approve: true }],
    });
    const resumed = await collect(second);
    expect(resumed[0]).toEqual({ type: 'run-started', runId: paused.runId, resumed: true });
    const toolResult = resumed.find((e) => e.type === 'tool-result');
    expect(toolResult?.type === 'tool-result' && toolResult.result.toolName).toBe('cancel_order');
    expect((await second.result).status).toBe('completed');
    expect(shop.orders.get('o-alice-2')?.status).toBe('cancelled');
  });

  it('leaving the event loop early cancels the run', async () => {
    const stream = newAgent([{ hang: true }]).stream({ user: alice, input: 'x' });
    for await (const e of stream) if (e.type === 'step-started') break;
    const result = await stream.result;
    expect(result.status).toBe('failed');
    if (result.status === 'failed') expect(isAbortedError(result.error)).toBe(true);
  });

  it('a caller error surfaces from both the iterator and the result', async () => {
    const stream = newAgent([]).stream({ user: alice, input: '' });
    await expect(collect(stream)).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
    await expect(stream.result).rejects.toMatchObject({ code: 'VALIDATION_FAILED' });
  });
});
