import { isValidationError } from '@trellis/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isNoModelConfiguredError } from '../errors.js';
import { OpenAISimulator } from '../testing/openai-simulator.js';
import { AnthropicProvider } from './anthropic.js';
import { modelFromEnv, resolveModelConfig, UnconfiguredModel } from './from-env.js';
import { OpenAIProvider } from './openai.js';

describe('choosing the model from the environment', () => {
  it('detects Anthropic first, then OpenAI, then an OpenAI-compatible base URL', () => {
    expect(resolveModelConfig({ ANTHROPIC_API_KEY: 'a', OPENAI_API_KEY: 'o' })).toEqual({
      provider: 'anthropic',
      model: 'claude-sonnet-5-5',
    });
    expect(resolveModelConfig({ OPENAI_API_KEY: 'o', OPENAI_MODEL: 'gpt-x' })).toEqual({
      provider: 'openai',
      model: 'gpt-x',
    });
    expect(
      resolveModelConfig({
        TRELLIS_AGENT_BASE_URL: 'http://localhost:11434/v1',
        TRELLIS_AGENT_MODEL: 'qwen2.5:7b',
      }),
    ).toEqual({ provider: 'openai-compatible', model: 'qwen2.5:7b', baseURL: 'http://localhost:11434/v1' });
    expect(modelFromEnv({ ANTHROPIC_API_KEY: 'a' })).toBeInstanceOf(AnthropicProvider);
    const compat = modelFromEnv({
      TRELLIS_AGENT_BASE_URL: 'http://127.0.0.1:8080/v1',
      TRELLIS_AGENT_MODEL: 'local',
    });
    expect(compat).toBeInstanceOf(OpenAIProvider);
    expect(compat.provider).toBe('openai-compatible');
  });

  it('an explicit provider wins over detection; TRELLIS_AGENT_MODEL overrides the model', () => {
    expect(
      resolveModelConfig({
        TRELLIS_AGENT_PROVIDER: 'openai',
        ANTHROPIC_API_KEY: 'a',
        OPENAI_API_KEY: 'o',
        TRELLIS_AGENT_MODEL: 'm',
      }),
    ).toEqual({ provider: 'openai', model: 'm' });
    expect(resolveModelConfig({ TRELLIS_AGENT_PROVIDER: 'none', ANTHROPIC_API_KEY: 'a' }).provider).toBe(
      'none',
    );
  });

  it('with no key at all, the model says clearly that none is configured', async () => {
    const model = modelFromEnv({});
    expect(model).toBeInstanceOf(UnconfiguredModel);
    expect(model.provider).toBe('none');
    const err = await model.generate({ messages: [], tools: [] }).catch((e: unknown) => e);
    expect(isNoModelConfiguredError(err)).toBe(true);
    expect(err).toMatchObject({ code: 'AGENT_NO_MODEL_CONFIGURED', status: 503 });
    expect((err as Error).message).toMatch(/ANTHROPIC_API_KEY.*OPENAI_API_KEY.*TRELLIS_AGENT_BASE_URL/);
  });

  it('a chosen provider without its key is "not configured", with the reason', async () => {
    const config = resolveModelConfig({ TRELLIS_AGENT_PROVIDER: 'anthropic' });
    expect(config).toMatchObject({
      provider: 'none',
      reason: expect.stringContaining('ANTHROPIC_API_KEY is not set'),
    });
    const err = await modelFromEnv({ TRELLIS_AGENT_PROVIDER: 'anthropic' })
      .generate({ messages: [], tools: [] })
      .catch((e: unknown) => e);
    expect((err as Error).message).toContain('ANTHROPIC_API_KEY is not set');
  });

  it('rejects malformed values with a ValidationError naming the variable', () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ TRELLIS_AGENT_PROVIDER: 'gemini' }, 'TRELLIS_AGENT_PROVIDER'],
      [{ OPENAI_API_KEY: 'o', OPENAI_BASE_URL: 'ftp://x' }, 'OPENAI_BASE_URL'],
      [
        { ANTHROPIC_API_KEY: 'a', TRELLIS_AGENT_MAX_OUTPUT_TOKENS: 'lots' },
        'TRELLIS_AGENT_MAX_OUTPUT_TOKENS',
      ],
      [{ TRELLIS_AGENT_BASE_URL: 'http://localhost:11434/v1' }, 'TRELLIS_AGENT_MODEL'],
    ];
    for (const [env, field] of cases) {
      let error: unknown;
      try {
        modelFromEnv(env);
      } catch (e) {
        error = e;
      }
      expect(isValidationError(error), field).toBe(true);
      if (isValidationError(error)) expect(error.issues[0]?.path).toBe(field);
    }
  });

  describe('the configured provider really talks to the configured server', () => {
    let sim: OpenAISimulator;
    beforeAll(async () => {
      sim = await OpenAISimulator.start({ script: [{ text: 'hello from the local model' }] });
    });
    afterAll(async () => {
      await sim.close();
    });

    it('an Ollama-style base URL with no key, non-streaming, with an output bound', async () => {
      const model = modelFromEnv({
        TRELLIS_AGENT_BASE_URL: sim.url,
        TRELLIS_AGENT_MODEL: 'llama3.2',
        TRELLIS_AGENT_STREAM: 'false',
        TRELLIS_AGENT_MAX_OUTPUT_TOKENS: '256',
      });
      const response = await model.generate({ messages: [{ role: 'user', content: 'hi' }], tools: [] });
      expect(response.content).toBe('hello from the local model');
      expect(sim.requests[0]?.body).toEqual({
        model: 'llama3.2',
        max_tokens: 256,
        messages: [{ role: 'user', content: 'hi' }],
      });
    });
  });
});
