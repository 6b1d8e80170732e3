import { CircuitBreaker } from '@trellis/resilience';
import { describe, expect, it } from 'vitest';
import { isAgentRunFailedError, ModelProviderError } from '../errors.js';
import { ScriptedModel } from '../providers/scripted.js';
import { InMemoryRunStore } from '../store/memory-run-store.js';
import type { RunStore } from '../store/run-record.js';
import { exampleUsers } from '../testing/example-shop.js';
import { Agent } from './agent.js';
import { resultFromRecord } from './run-result.js';

const { alice } = exampleUsers;

describe('agent options', () => {
  it('a model policy (a breaker) fails fast once the provider keeps failing', async () => {
    const down = new ModelProviderError('anthropic', 'overloaded', 529);
    const model = new ScriptedModel([{ error: down }, { error: down }]);
    const breaker = new CircuitBreaker({ failureThreshold: 2, successThreshold: 1, timeout: 60_000 });
    const agent = new Agent({ model, tools: [], modelPolicy: breaker });
    for (let i = 0; i < 2; i++) expect((await agent.run({ user: alice, input: 'x' })).status).toBe('failed');
    const third = await agent.run({ user: alice, input: 'x' });
    expect(third.status === 'failed' && third.error.code).toBe('CIRCUIT_OPEN');
    expect(model.requests).toHaveLength(2); // the third run never reached the provider
  });

  it('passes maxOutputTokens and the per-user system prompt to the model', async () => {
    const model = new ScriptedModel([
      {
        expect: (req) => {
          expect(req.maxOutputTokens).toBe(256);
          expect(req.system).toBe('You help alice.');
        },
        reply: { text: 'ok' },
      },
    ]);
    const agent = new Agent({
      model,
      tools: [],
      system: (user) => `You help ${user.id}.`,
      limits: { maxOutputTokens: 256 },
    });
    expect((await agent.run({ user: alice, input: 'x' })).status).toBe('completed');
    model.assertDone();
  });

  it('rejects unusable options with a ValidationError naming the option', () => {
    expect(() => new Agent({ model: new ScriptedModel([]), tools: [], maxParallelToolCalls: 0 })).toThrow(
      expect.objectContaining({
        code: 'VALIDATION_FAILED',
        issues: [expect.objectContaining({ path: 'maxParallelToolCalls' })],
      }),
    );
    expect(() => new Agent({ model: new ScriptedModel([]), tools: [], limits: { deadlineMs: -1 } })).toThrow(
      expect.objectContaining({ issues: [expect.objectContaining({ path: 'deadlineMs' })] }),
    );
  });

  it('a store that fails mid-run ends the run as AGENT_RUN_FAILED instead of throwing', async () => {
    const inner = new InMemoryRunStore();
    let saves = 0;
    const flaky: RunStore = {
      save: (record) => (++saves > 1 ? Promise.reject(new Error('disk full')) : inner.save(record)),
      get: (id) => inner.get(id),
      list: (q) => inner.list(q),
    };
    const model = new ScriptedModel([{ toolCalls: [{ name: 'nope', arguments: {} }] }]);
    const result = await new Agent({ model, tools: [], store: flaky }).run({ user: alice, input: 'x' });
    expect(result.status).toBe('failed');
    if (result.status === 'failed') {
      expect(isAgentRunFailedError(result.error)).toBe(true);
      expect(result.error.message).toContain('disk full');
    }
  });

  it('a stored run reads back as the result it ended with', async () => {
    const agent = new Agent({
      model: new ScriptedModel([{ text: 'done' }, { toolCalls: [{ name: 'nope', arguments: {} }] }]),
      tools: [],
    });
    const completed = await agent.run({ user: alice, input: 'a' });
    expect(resultFromRecord(await agent.getRun(completed.runId, alice))).toEqual(completed);
    const limited = await agent.run({ user: alice, input: 'b', limits: { maxSteps: 1 } });
    const reread = resultFromRecord(await agent.getRun(limited.runId, alice));
    expect(reread).toMatchObject({ status: 'limit_exceeded', error: { limit: 'maxSteps', value: 1 } });
    expect(reread.transcript).toEqual(limited.transcript);
  });
});
