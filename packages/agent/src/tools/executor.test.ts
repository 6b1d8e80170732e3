import { context } from '@opentelemetry/api';
import { ConflictError, ManualClock } from '@trellis/core';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { Principal } from '../identity.js';
import type { ToolCall } from '../messages.js';
import { ToolExecutor } from './executor.js';
import { ToolRegistry } from './registry.js';
import { defineTool } from './tool.js';

const user = new Principal({ id: 'u', permissions: [] });
const call = (name: string, args: unknown = {}): ToolCall => ({ id: `c-${name}`, name, arguments: args });

function executor(
  tools: Parameters<ToolRegistry['register']>,
  options: { maxResultChars?: number; clock?: ManualClock } = {},
) {
  return new ToolExecutor({ registry: new ToolRegistry(tools), ...options });
}

async function run(ex: ToolExecutor, c: ToolCall, signal = new AbortController().signal) {
  const prepared = await ex.prepare(c, user);
  if (prepared.kind === 'result') return prepared.result;
  if (prepared.kind !== 'run') throw new Error(`unexpected ${prepared.kind}`);
  return ex.execute(prepared, { user, runId: 'r', signal, parent: context.active() });
}

describe('ToolExecutor', () => {
  const echo = defineTool({
    name: 'echo',
    description: 'echo',
    input: z.object({ v: z.unknown() }),
    execute: ({ v }) => v,
  });

  it('writes strings as they are and everything else as JSON', async () => {
    const ex = executor([echo]);
    expect((await run(ex, call('echo', { v: 'plain text' }))).content).toBe('plain text');
    expect((await run(ex, call('echo', { v: { a: [1] } }))).content).toBe('{"a":[1]}');
    expect((await run(ex, call('echo', { v: null }))).content).toBe('null');
  });

  it('cuts oversized results, keeping valid JSON that says so', async () => {
    const ex = executor([echo], { maxResultChars: 10 });
    const result = await run(ex, call('echo', { v: 'x'.repeat(25) }));
    expect(JSON.parse(result.content)).toEqual({ truncated: true, originalLength: 25, text: 'xxxxxxxxxx' });
  });

  it('reports a result that cannot be serialised as TOOL_FAILED', async () => {
    const cyclic = defineTool({
      name: 'cyclic',
      description: 'returns a cycle',
      input: z.object({}),
      execute: () => {
        const a: Record<string, unknown> = {};
        a.self = a;
        return a;
      },
    });
    expect((await run(executor([cyclic]), call('cyclic'))).errorCode).toBe('TOOL_FAILED');
  });

  it('an approval check that throws becomes an error result, and nothing runs', async () => {
    let ran = false;
    const guarded = defineTool({
      name: 'guarded',
      description: 'g',
      input: z.object({}),
      needsApproval: () => {
        throw new Error('policy service down');
      },
      execute: () => {
        ran = true;
      },
    });
    const result = await run(executor([guarded]), call('guarded'));
    expect(result.errorCode).toBe('TOOL_FAILED');
    expect(ran).toBe(false);
  });

  it('a run that stops while a tool is running closes the call as TOOL_NOT_EXECUTED', async () => {
    const clock = new ManualClock();
    const slow = defineTool({
      name: 'slow',
      description: 's',
      input: z.object({}),
      execute: (_a, { signal }) =>
        new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
    });
    const controller = new AbortController();
    const pending = run(executor([slow], { clock }), call('slow'), controller.signal);
    await clock.advance(10);
    controller.abort(new Error('deadline'));
    expect((await pending).errorCode).toBe('TOOL_NOT_EXECUTED');
    expect(clock.pendingTimers()).toBe(0);
  });

  it('passes Trellis errors through with their code and details', async () => {
    const picky = defineTool({
      name: 'picky',
      description: 'p',
      input: z.object({}),
      execute: () => {
        throw new ConflictError('Order o-1 has shipped', { details: { orderId: 'o-1' } });
      },
    });
    expect((await run(executor([picky]), call('picky'))).content).toBe(
      '{"error":{"code":"CONFLICT","message":"Order o-1 has shipped","details":{"orderId":"o-1"}}}',
    );
  });
});
