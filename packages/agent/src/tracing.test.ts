import { context, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Agent } from './loop/agent.js';
import { ScriptedModel } from './providers/scripted.js';
import { exampleUsers } from './testing/example-shop.js';
import { defineTool } from './tools/tool.js';
import { traceHeaders } from './tracing.js';

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const tracer = provider.getTracer('test');

describe('tracing: a span per run, model call and tool call, and the trace reaches downstream calls', () => {
  beforeAll(() => {
    context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  });
  afterAll(() => {
    context.disable();
  });
  beforeEach(() => exporter.reset());

  it('parents every span under the caller, with GenAI attributes, and hands tools a traceparent', async () => {
    const seen: { headers?: Record<string, string>; activeSpanId?: string } = {};
    const lookup = defineTool({
      name: 'lookup',
      description: 'calls a downstream service',
      input: z.object({ q: z.string() }),
      execute: (_args, ctx) => {
        seen.headers = ctx.headers();
        seen.activeSpanId = trace.getActiveSpan()?.spanContext().spanId;
        return { ok: true };
      },
    });
    const failing = defineTool({
      name: 'failing',
      description: 'fails',
      input: z.object({}),
      execute: () => {
        throw new Error('boom');
      },
    });
    const model = new ScriptedModel([
      {
        toolCalls: [
          { name: 'lookup', arguments: { q: 'x' } },
          { name: 'failing', arguments: {} },
        ],
        usage: { inputTokens: 10, outputTokens: 5 },
      },
      { text: 'done', usage: { inputTokens: 20, outputTokens: 3 } },
    ]);
    const agent = new Agent({ model, tools: [lookup, failing], tracer });
    const user = {
      ...exampleUsers.alice,
      credentials: { authorization: 'Bearer t0k', 'X-Trellis-Identity': 'signed' },
    };
    const outer = tracer.startSpan('POST /api/assistant/chat');
    const result = await context.with(trace.setSpan(context.active(), outer), () =>
      agent.run({ user, input: 'hi' }),
    );
    outer.end();
    expect(result.status).toBe('completed');

    const spans = exporter.getFinishedSpans();
    const byName = (name: string) => spans.filter((s) => s.name === name);
    const [run] = byName('invoke_agent assistant');
    const chats = byName('chat scripted-model');
    const [toolSpan] = byName('execute_tool lookup');
    const [failedSpan] = byName('execute_tool failing');
    expect(run && toolSpan && failedSpan).toBeTruthy();
    expect(chats).toHaveLength(2);
    const traceId = outer.spanContext().traceId;
    for (const s of spans) expect(s.spanContext().traceId).toBe(traceId);
    expect(run?.parentSpanContext?.spanId).toBe(outer.spanContext().spanId);
    for (const s of [...chats, toolSpan, failedSpan])
      expect(s?.parentSpanContext?.spanId).toBe(run?.spanContext().spanId);
    expect(chats[0]?.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'scripted',
      'gen_ai.request.model': 'scripted-model',
      'gen_ai.usage.input_tokens': 10,
      'gen_ai.usage.output_tokens': 5,
    });
    expect(toolSpan?.attributes).toMatchObject({
      'gen_ai.tool.name': 'lookup',
      'gen_ai.tool.call.id': 'call_1_1',
      'enduser.id': 'alice',
    });
    expect(failedSpan?.status.code).toBe(SpanStatusCode.ERROR);
    expect(failedSpan?.attributes['error.type']).toBe('TOOL_FAILED');
    expect(run?.attributes).toMatchObject({
      'trellis.agent.status': 'completed',
      'gen_ai.usage.input_tokens': 30,
    });

    // The tool ran inside its span, and its outgoing headers carry that span and the user's token.
    expect(seen.activeSpanId).toBe(toolSpan?.spanContext().spanId);
    expect(seen.headers?.traceparent).toBe(`00-${traceId}-${toolSpan?.spanContext().spanId}-01`);
    expect(seen.headers?.authorization).toBe('Bearer t0k');
    expect(seen.headers?.['x-trellis-identity']).toBe('signed');
    expect((await agent.getRun(result.runId, user)).traceId).toBe(traceId);
  });

  it('traceHeaders is empty outside any span', () => {
    expect(traceHeaders(context.active())).toEqual({});
  });
});
