import { afterEach, describe, expect, it } from 'vitest';
import { Agent } from '../loop/agent.js';
import type { AgentEvent } from '../loop/events.js';
import { AnthropicSimulator } from '../testing/anthropic-simulator.js';
import { createExampleShopTools, ExampleShop, exampleUsers } from '../testing/example-shop.js';
import { OpenAISimulator } from '../testing/openai-simulator.js';
import { AnthropicProvider } from './anthropic.js';
import { OpenAIProvider } from './openai.js';
import type { ModelProvider } from './provider.js';

const turns = [
  {
    text: 'Checking stock and your orders.',
    toolCalls: [
      { name: 'stock_lookup', input: { sku: 'SKU-MUG' } },
      { name: 'search_orders', input: { status: 'shipped' } },
      { name: 'get_order', input: { orderId: 'o-bob-1' } },
    ],
  },
  { text: 'Mugs: 12 in stock. Your order o-alice-1 has shipped.' },
];

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function providers(): Promise<
  Array<[string, () => Promise<{ model: ModelProvider; requests: () => unknown[] }>]>
> {
  return [
    [
      'Anthropic (SSE)',
      async () => {
        const sim = await AnthropicSimulator.start({ apiKey: 'k', script: [...turns], chunkSize: 4 });
        closers.push(() => sim.close());
        return {
          model: new AnthropicProvider({ apiKey: 'k', model: 'claude-test', baseURL: sim.url }),
          requests: () => sim.requests,
        };
      },
    ],
    [
      'OpenAI (SSE, parallel calls interleaved)',
      async () => {
        const sim = await OpenAISimulator.start({
          apiKey: 'k',
          script: [...turns],
          chunkSize: 4,
          interleaveToolCalls: true,
        });
        closers.push(() => sim.close());
        return {
          model: new OpenAIProvider({ apiKey: 'k', model: 'gpt-test', baseURL: sim.url }),
          requests: () => sim.requests,
        };
      },
    ],
    [
      'OpenAI-compatible (JSON, Ollama quirks)',
      async () => {
        const sim = await OpenAISimulator.start({
          script: [...turns],
          stopWithToolCalls: true,
          omitUsage: true,
        });
        closers.push(() => sim.close());
        return {
          model: new OpenAIProvider({
            provider: 'openai-compatible',
            model: 'llama3.2',
            baseURL: sim.url,
            stream: false,
          }),
          requests: () => sim.requests,
        };
      },
    ],
  ];
}

describe('the agent loop over real SDK clients and the API simulators', async () => {
  for (const [label, make] of await providers()) {
    it(`${label}: parallel tool calls while streaming, results back in a request the API accepts`, async () => {
      const { model, requests } = await make();
      const agent = new Agent({
        model,
        tools: createExampleShopTools(new ExampleShop()),
        system: 'Shop assistant.',
      });
      const stream = agent.stream({
        user: exampleUsers.alice,
        input: 'Mugs in stock? And my shipped orders?',
      });
      const events: AgentEvent[] = [];
      for await (const e of stream) events.push(e);
      const result = await stream.result;
      expect(result).toMatchObject({ status: 'completed', text: turns[1]?.text, steps: 2, toolCalls: 3 });
      expect(result.usage.inputTokens).toBeGreaterThan(0);
      const results = events.flatMap((e) => (e.type === 'tool-result' ? [e.result] : []));
      const byName = Object.fromEntries(results.map((r) => [r.toolName, r]));
      expect(JSON.parse(byName.stock_lookup?.content ?? '{}')).toEqual({ sku: 'SKU-MUG', available: 12 });
      expect(JSON.parse(byName.search_orders?.content ?? '[]').map((o: { id: string }) => o.id)).toEqual([
        'o-alice-1',
      ]);
      expect(byName.get_order?.errorCode).toBe('NOT_FOUND');
      const args = new Map<string, string>();
      for (const e of events)
        if (e.type === 'tool-call-delta')
          args.set(e.toolCallId, (args.get(e.toolCallId) ?? '') + e.argumentsDelta);
      expect([...args.values()].map((a) => JSON.parse(a))).toEqual(turns[0]?.toolCalls?.map((c) => c.input));
      // The second request (with the tool results) passed the simulator's pairing checks.
      expect(requests()).toHaveLength(2);
    });
  }
});
