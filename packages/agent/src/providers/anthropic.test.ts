import { isTrellisError } from '@trellis/core';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isModelProviderError } from '../errors.js';
import type { ModelDelta, ModelRequest } from '../messages.js';
import { AnthropicSimulator } from '../testing/anthropic-simulator.js';
import { AnthropicProvider } from './anthropic.js';

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
      content: 'Let me look.',
      toolCalls: [{ id: 'toolu_1', name: 'search_orders', arguments: { status: 'shipped' } }],
    },
    {
      role: 'tool',
      results: [
        { toolCallId: 'toolu_1', toolName: 'search_orders', content: '[{"id":"o1"}]', isError: false },
      ],
    },
    { role: 'user', content: 'And the pending ones?' },
  ],
};

describe('AnthropicProvider against the Messages API simulator', () => {
  let sim: AnthropicSimulator;
  beforeEach(async () => {
    sim = await AnthropicSimulator.start({ apiKey: 'sk-ant-test' });
  });
  afterEach(async () => {
    await sim.close();
  });

  const provider = (stream: boolean) =>
    new AnthropicProvider({
      apiKey: 'sk-ant-test',
      model: 'claude-test',
      baseURL: sim.url,
      stream,
      maxRetries: 1,
    });

  it('maps the request: system, tools, tool_use/tool_result pairing, merged user turns, max_tokens', async () => {
    sim.enqueue({ text: 'Done.' });
    await provider(false).generate(request);
    const sent = sim.requests[0];
    expect(sent?.headers.authorization).toBe('Bearer sk-ant-test');
    expect(sent?.headers['anthropic-version']).toBeTruthy();
    expect(sent?.body).toEqual({
      model: 'claude-test',
      max_tokens: 4096,
      system: 'You are the shop assistant.',
      tools: [
        {
          name: 'search_orders',
          description: 'Search orders',
          input_schema: { type: 'object', properties: { status: { type: 'string' } } },
        },
      ],
      messages: [
        { role: 'user', content: 'Where are my orders?' },
        {
          role: 'assistant',
          content: [
            { type: 'text', text: 'Let me look.' },
            { type: 'tool_use', id: 'toolu_1', name: 'search_orders', input: { status: 'shipped' } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'toolu_1', content: '[{"id":"o1"}]', is_error: false },
            { type: 'text', text: 'And the pending ones?' },
          ],
        },
      ],
    });
  });

  for (const stream of [false, true]) {
    it(`maps the response with parallel tool calls (${stream ? 'SSE stream' : 'JSON'})`, async () => {
      sim.enqueue({
        text: 'Checking both.',
        toolCalls: [
          {
            id: 'toolu_a',
            name: 'search_orders',
            input: { status: 'pending', note: 'a long value to split' },
          },
          { id: 'toolu_b', name: 'stock_lookup', input: { sku: 'SKU-123456789' } },
        ],
        usage: { input: 120, output: 45 },
      });
      const deltas: ModelDelta[] = [];
      const response = await provider(stream).generate(request, { onDelta: (d) => deltas.push(d) });
      expect(response).toEqual({
        content: 'Checking both.',
        toolCalls: [
          {
            id: 'toolu_a',
            name: 'search_orders',
            arguments: { status: 'pending', note: 'a long value to split' },
          },
          { id: 'toolu_b', name: 'stock_lookup', arguments: { sku: 'SKU-123456789' } },
        ],
        stopReason: 'tool_use',
        usage: { inputTokens: 120, outputTokens: 45 },
        model: 'claude-test',
      });
      expect((sim.requests[0]?.body as { stream?: boolean } | undefined)?.stream).toBe(
        stream ? true : undefined,
      );
      const text = deltas.flatMap((d) => (d.type === 'text' ? [d.text] : [])).join('');
      expect(text).toBe('Checking both.');
      const argsOf = (index: number) =>
        deltas
          .flatMap((d) => (d.type === 'tool-call-delta' && d.index === index ? [d.argumentsDelta] : []))
          .join('');
      expect(JSON.parse(argsOf(0))).toEqual({ status: 'pending', note: 'a long value to split' });
      expect(JSON.parse(argsOf(1))).toEqual({ sku: 'SKU-123456789' });
      if (stream) expect(deltas.filter((d) => d.type === 'text').length).toBeGreaterThan(1);
    });
  }

  it('keeps malformed streamed tool arguments raw instead of throwing', async () => {
    sim.enqueue({
      toolCalls: [{ id: 'toolu_x', name: 'search_orders', input: {}, rawArguments: '{"status": "pend' }],
    });
    const response = await provider(true).generate(request);
    expect(response.toolCalls).toEqual([
      { id: 'toolu_x', name: 'search_orders', arguments: undefined, invalidJson: '{"status": "pend' },
    ]);
  });

  it('maps stop reasons', async () => {
    sim.enqueue({ text: 'cut', stopReason: 'max_tokens' }, { text: 'x', stopReason: 'pause_turn' });
    expect((await provider(true).generate(request)).stopReason).toBe('max_tokens');
    expect((await provider(false).generate(request)).stopReason).toBe('other');
  });

  it('retries an overloaded answer through the SDK, then succeeds', async () => {
    sim.enqueue(
      {
        fail: {
          status: 529,
          type: 'overloaded_error',
          message: 'Overloaded',
          headers: { 'retry-after-ms': '5' },
        },
      },
      { text: 'ok' },
    );
    const response = await provider(false).generate(request);
    expect(response.content).toBe('ok');
    expect(sim.requests).toHaveLength(2);
  });

  it('turns API errors into ModelProviderError with the status, without retrying a 400', async () => {
    sim.enqueue({ fail: { status: 400, type: 'invalid_request_error', message: 'prompt is too long' } });
    const err = await provider(true)
      .generate(request)
      .catch((e: unknown) => e);
    expect(isModelProviderError(err)).toBe(true);
    expect(err).toMatchObject({ status: 502, providerStatus: 400, provider: 'anthropic' });
    expect((err as Error).message).toContain('prompt is too long');
    expect(sim.requests).toHaveLength(1);
  });

  it('reports a wrong key as a 401 provider error', async () => {
    const wrong = new AnthropicProvider({ apiKey: 'nope', model: 'm', baseURL: sim.url, maxRetries: 0 });
    const err = await wrong.generate(request).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'AGENT_MODEL_ERROR', providerStatus: 401 });
  });

  it('rejects with the signal reason when aborted mid-request', async () => {
    sim.enqueue({ hang: true });
    const controller = new AbortController();
    const pending = provider(true).generate(request, { signal: controller.signal });
    while (sim.requests.length === 0) await new Promise((r) => setTimeout(r, 5));
    const reason = new Error('deadline');
    controller.abort(reason);
    await expect(pending).rejects.toBe(reason);
    expect(isTrellisError(reason)).toBe(false);
  });

  it('the simulator rejects what the real API rejects (unpaired tool_result)', async () => {
    const res = await fetch(`${sim.url}/v1/messages`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'x-api-key': 'sk-ant-test',
        'anthropic-version': '2023-06-01',
      },
      body: JSON.stringify({
        model: 'm',
        max_tokens: 10,
        messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'nope', content: 'x' }] }],
      }),
    });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });
});
