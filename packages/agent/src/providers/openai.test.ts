import { afterEach, describe, expect, it } from 'vitest';
import { isModelProviderError } from '../errors.js';
import type { ModelDelta, ModelRequest } from '../messages.js';
import { OpenAISimulator, type OpenAISimulatorOptions } from '../testing/openai-simulator.js';
import { OpenAIProvider, type OpenAIProviderOptions } from './openai.js';

const request: ModelRequest = {
  system: 'You are the shop assistant.',
  tools: [
    {
      name: 'search_orders',
      description: 'Search orders',
      inputSchema: { type: 'object', properties: { status: { type: 'string' } } },
    },
  ],
  messages: [
    { role: 'user', content: 'Where are my orders?' },
    {
      role: 'assistant',
      content: '',
      toolCalls: [
        { id: 'call_1', name: 'search_orders', arguments: { status: 'shipped' } },
        { id: 'call_2', name: 'search_orders', arguments: undefined, invalidJson: '{"status":' },
      ],
    },
    {
      role: 'tool',
      results: [
        { toolCallId: 'call_1', toolName: 'search_orders', content: '[]', isError: false },
        { toolCallId: 'call_2', toolName: 'search_orders', content: '{"error":{}}', isError: true },
      ],
    },
    { role: 'user', content: 'And the pending ones?' },
  ],
};

describe('OpenAIProvider against the Chat Completions simulator', () => {
  let sim: OpenAISimulator;
  afterEach(async () => {
    await sim.close();
  });
  const start = async (options: OpenAISimulatorOptions = {}) => {
    sim = await OpenAISimulator.start({ apiKey: 'sk-test', ...options });
  };
  const provider = (options: Partial<OpenAIProviderOptions> = {}) =>
    new OpenAIProvider({ apiKey: 'sk-test', model: 'gpt-test', baseURL: sim.url, maxRetries: 1, ...options });

  it('maps the request: system first, tool_calls with string arguments, one tool message per result', async () => {
    await start({ script: [{ text: 'ok' }] });
    await provider({ stream: false, maxOutputTokens: 500 }).generate(request);
    const sent = sim.requests[0];
    expect(sent?.headers.authorization).toBe('Bearer sk-test');
    expect(sent?.body).toEqual({
      model: 'gpt-test',
      max_completion_tokens: 500,
      tools: [
        {
          type: 'function',
          function: {
            name: 'search_orders',
            description: 'Search orders',
            parameters: { type: 'object', properties: { status: { type: 'string' } } },
          },
        },
      ],
      messages: [
        { role: 'system', content: 'You are the shop assistant.' },
        { role: 'user', content: 'Where are my orders?' },
        {
          role: 'assistant',
          content: null,
          tool_calls: [
            {
              id: 'call_1',
              type: 'function',
              function: { name: 'search_orders', arguments: '{"status":"shipped"}' },
            },
            { id: 'call_2', type: 'function', function: { name: 'search_orders', arguments: '{"status":' } },
          ],
        },
        { role: 'tool', tool_call_id: 'call_1', content: '[]' },
        { role: 'tool', tool_call_id: 'call_2', content: '{"error":{}}' },
        { role: 'user', content: 'And the pending ones?' },
      ],
    });
  });

  it('uses max_tokens for compatible servers, which many only understand', async () => {
    await start({ script: [{ text: 'ok' }] });
    await provider({ provider: 'openai-compatible', maxOutputTokens: 64 }).generate(request);
    expect(sim.requests[0]?.body).toMatchObject({
      max_tokens: 64,
      stream: true,
      stream_options: { include_usage: true },
    });
  });

  const turn = {
    text: 'Checking both orders now.',
    toolCalls: [
      { id: 'call_a', name: 'search_orders', input: { status: 'pending', note: 'long enough to split' } },
      { id: 'call_b', name: 'stock_lookup', input: { sku: 'SKU-123456789' } },
    ],
    usage: { input: 99, output: 33 },
  };
  const expected = {
    content: 'Checking both orders now.',
    toolCalls: [
      { id: 'call_a', name: 'search_orders', arguments: { status: 'pending', note: 'long enough to split' } },
      { id: 'call_b', name: 'stock_lookup', arguments: { sku: 'SKU-123456789' } },
    ],
    stopReason: 'tool_use',
    usage: { inputTokens: 99, outputTokens: 33 },
    model: 'gpt-test',
  };

  for (const [label, sim_, stream] of [
    ['JSON', {}, false],
    ['SSE, calls one after another', {}, true],
    ['SSE, parallel calls interleaved chunk by chunk', { interleaveToolCalls: true }, true],
  ] as const) {
    it(`assembles parallel tool calls intact (${label})`, async () => {
      await start({ ...sim_, script: [turn] });
      const deltas: ModelDelta[] = [];
      const response = await provider({ stream }).generate(request, { onDelta: (d) => deltas.push(d) });
      expect(response).toEqual(expected);
      const argsOf = (index: number) =>
        deltas
          .flatMap((d) => (d.type === 'tool-call-delta' && d.index === index ? [d.argumentsDelta] : []))
          .join('');
      expect(JSON.parse(argsOf(0))).toEqual(expected.toolCalls[0]?.arguments);
      expect(JSON.parse(argsOf(1))).toEqual(expected.toolCalls[1]?.arguments);
    });
  }

  it('copes with an Ollama-style server: finish "stop" with tool calls, no usage reported', async () => {
    await start({ stopWithToolCalls: true, omitUsage: true, script: [turn] });
    const response = await provider({ provider: 'openai-compatible', apiKey: 'sk-test' }).generate(request);
    expect(response.stopReason).toBe('tool_use');
    expect(response.toolCalls).toEqual(expected.toolCalls);
    expect(response.usage.inputTokens).toBeGreaterThan(0);
    expect(response.usage.outputTokens).toBeGreaterThan(0);
  });

  it('maps finish reasons', async () => {
    await start({
      script: [
        { text: 'cut', stopReason: 'length' },
        { text: 'x', stopReason: 'content_filter' },
        { text: 'y' },
      ],
    });
    expect((await provider().generate(request)).stopReason).toBe('max_tokens');
    expect((await provider({ stream: false }).generate(request)).stopReason).toBe('refusal');
    expect((await provider().generate(request)).stopReason).toBe('end_turn');
  });

  it('keeps malformed tool arguments raw', async () => {
    await start({
      script: [
        { toolCalls: [{ id: 'c', name: 'search_orders', input: {}, rawArguments: '{"status": pend' }] },
      ],
    });
    const response = await provider().generate(request);
    expect(response.toolCalls).toEqual([
      { id: 'c', name: 'search_orders', arguments: undefined, invalidJson: '{"status": pend' },
    ]);
  });

  it('retries a 429 through the SDK, and maps a 401 to ModelProviderError', async () => {
    await start({
      script: [
        {
          fail: {
            status: 429,
            type: 'rate_limit_error',
            message: 'Rate limit',
            headers: { 'retry-after-ms': '5' },
          },
        },
        { text: 'after retry' },
      ],
    });
    expect((await provider().generate(request)).content).toBe('after retry');
    expect(sim.requests).toHaveLength(2);
    const err = await provider({ apiKey: 'wrong', maxRetries: 0 })
      .generate(request)
      .catch((e: unknown) => e);
    expect(isModelProviderError(err)).toBe(true);
    expect(err).toMatchObject({ provider: 'openai', providerStatus: 401 });
  });

  it('the simulator rejects a tool message that answers no tool call, as OpenAI does', async () => {
    await start();
    const res = await fetch(`${sim.url}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' },
      body: JSON.stringify({
        model: 'm',
        messages: [
          { role: 'user', content: 'x' },
          { role: 'tool', tool_call_id: 'nope', content: 'y' },
        ],
      }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { type: 'invalid_request_error' } });
  });
});
