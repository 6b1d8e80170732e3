/**
 * Chooses the model from the environment, so the same build runs against Claude, OpenAI, a
 * local Ollama or llama.cpp server, or nothing at all (and then says so instead of pretending).
 */
import { ValidationError } from '@trellis/core';
import { z } from 'zod';
import { NO_MODEL_MESSAGE, NoModelConfiguredError } from '../errors.js';
import type { ModelRequest, ModelResponse } from '../messages.js';
import { AnthropicProvider } from './anthropic.js';
import { OpenAIProvider } from './openai.js';
import type { ModelProvider } from './provider.js';

/** Default models when the environment names none. */
export const DEFAULT_MODELS = { anthropic: 'claude-sonnet-5-5', openai: 'gpt-5.4-mini' } as const;

const optionalText = z
  .string()
  .optional()
  .transform((v) => (v?.trim() ? v.trim() : undefined));
const optionalUrl = optionalText.pipe(z.url({ protocol: /^https?$/ }).optional());
const optionalInt = optionalText.pipe(z.coerce.number<string | undefined>().int().positive().optional());

const envSchema = z.object({
  TRELLIS_AGENT_PROVIDER: optionalText.pipe(
    z.enum(['anthropic', 'openai', 'openai-compatible', 'none']).optional(),
  ),
  TRELLIS_AGENT_MODEL: optionalText,
  TRELLIS_AGENT_BASE_URL: optionalUrl,
  TRELLIS_AGENT_API_KEY: optionalText,
  TRELLIS_AGENT_STREAM: optionalText.pipe(z.enum(['true', 'false']).optional()),
  TRELLIS_AGENT_MAX_OUTPUT_TOKENS: optionalInt,
  TRELLIS_AGENT_TIMEOUT_MS: optionalInt,
  ANTHROPIC_API_KEY: optionalText,
  ANTHROPIC_BASE_URL: optionalUrl,
  ANTHROPIC_MODEL: optionalText,
  OPENAI_API_KEY: optionalText,
  OPENAI_BASE_URL: optionalUrl,
  OPENAI_MODEL: optionalText,
});

/** The resolved model configuration (secrets omitted), for logs and health endpoints. */
export interface ModelConfig {
  provider: 'anthropic' | 'openai' | 'openai-compatible' | 'none';
  model: string;
  baseURL?: string;
  /** Why no model is configured (only for `none`). */
  reason?: string;
}

/**
 * Picks and builds the model provider from environment variables:
 *
 * | variable | meaning |
 * |---|---|
 * | `TRELLIS_AGENT_PROVIDER` | `anthropic`, `openai`, `openai-compatible` or `none`; default: detected |
 * | `ANTHROPIC_API_KEY`, `ANTHROPIC_BASE_URL`, `ANTHROPIC_MODEL` | Claude (detected first) |
 * | `OPENAI_API_KEY`, `OPENAI_BASE_URL`, `OPENAI_MODEL` | OpenAI (detected second) |
 * | `TRELLIS_AGENT_BASE_URL`, `TRELLIS_AGENT_API_KEY` | an OpenAI-compatible server (detected third) |
 * | `TRELLIS_AGENT_MODEL` | model name for any provider (required for `openai-compatible`) |
 * | `TRELLIS_AGENT_STREAM` | `false` to use non-streaming calls |
 * | `TRELLIS_AGENT_MAX_OUTPUT_TOKENS`, `TRELLIS_AGENT_TIMEOUT_MS` | per-call bounds |
 *
 * With nothing configured it returns an {@link UnconfiguredModel}, whose every call fails with
 * `NoModelConfiguredError` (HTTP 503) explaining what to set.
 *
 * Throws `ValidationError` naming the variable when a value is malformed (a URL that is not
 * http(s), an unknown provider, a non-numeric limit, a compatible server without a model).
 *
 * @example
 * ```ts
 * const model = modelFromEnv(process.env);
 * if (model.provider === 'none') log.warn('assistant has no model configured');
 * ```
 */
export function modelFromEnv(env: Record<string, string | undefined> = process.env): ModelProvider {
  const config = resolveModelConfig(env);
  const e = parseEnv(env);
  const common = {
    ...(e.TRELLIS_AGENT_MAX_OUTPUT_TOKENS ? { maxOutputTokens: e.TRELLIS_AGENT_MAX_OUTPUT_TOKENS } : {}),
    ...(e.TRELLIS_AGENT_TIMEOUT_MS ? { timeoutMs: e.TRELLIS_AGENT_TIMEOUT_MS } : {}),
    stream: e.TRELLIS_AGENT_STREAM !== 'false',
  };
  switch (config.provider) {
    case 'anthropic':
      return new AnthropicProvider({
        apiKey: e.ANTHROPIC_API_KEY ?? '',
        model: config.model,
        ...(config.baseURL ? { baseURL: config.baseURL } : {}),
        ...common,
      });
    case 'openai':
      return new OpenAIProvider({
        provider: 'openai',
        apiKey: e.OPENAI_API_KEY ?? '',
        model: config.model,
        ...(config.baseURL ? { baseURL: config.baseURL } : {}),
        ...common,
      });
    case 'openai-compatible':
      return new OpenAIProvider({
        provider: 'openai-compatible',
        ...(e.TRELLIS_AGENT_API_KEY ? { apiKey: e.TRELLIS_AGENT_API_KEY } : {}),
        model: config.model,
        ...(config.baseURL ? { baseURL: config.baseURL } : {}),
        ...common,
      });
    case 'none':
      return new UnconfiguredModel(config.reason);
  }
}

/**
 * Which provider the environment selects, without building it (no secrets in the result).
 * Throws `ValidationError` like {@link modelFromEnv}.
 */
export function resolveModelConfig(env: Record<string, string | undefined> = process.env): ModelConfig {
  const e = parseEnv(env);
  const chosen =
    e.TRELLIS_AGENT_PROVIDER ??
    (e.ANTHROPIC_API_KEY
      ? 'anthropic'
      : e.OPENAI_API_KEY
        ? 'openai'
        : e.TRELLIS_AGENT_BASE_URL
          ? 'openai-compatible'
          : 'none');
  const none = (reason: string): ModelConfig => ({ provider: 'none', model: 'none', reason });
  switch (chosen) {
    case 'anthropic':
      if (!e.ANTHROPIC_API_KEY)
        return none('TRELLIS_AGENT_PROVIDER is "anthropic" but ANTHROPIC_API_KEY is not set');
      return withUrl(
        'anthropic',
        e.TRELLIS_AGENT_MODEL ?? e.ANTHROPIC_MODEL ?? DEFAULT_MODELS.anthropic,
        e.ANTHROPIC_BASE_URL,
      );
    case 'openai':
      if (!e.OPENAI_API_KEY) return none('TRELLIS_AGENT_PROVIDER is "openai" but OPENAI_API_KEY is not set');
      return withUrl(
        'openai',
        e.TRELLIS_AGENT_MODEL ?? e.OPENAI_MODEL ?? DEFAULT_MODELS.openai,
        e.OPENAI_BASE_URL,
      );
    case 'openai-compatible': {
      const baseURL = e.TRELLIS_AGENT_BASE_URL ?? e.OPENAI_BASE_URL;
      if (!baseURL)
        return none('TRELLIS_AGENT_PROVIDER is "openai-compatible" but TRELLIS_AGENT_BASE_URL is not set');
      const model = e.TRELLIS_AGENT_MODEL ?? e.OPENAI_MODEL;
      if (!model) {
        const message = 'is required for an OpenAI-compatible server (e.g. "qwen2.5:7b" on Ollama)';
        throw new ValidationError(`Invalid environment at "TRELLIS_AGENT_MODEL": ${message}`, [
          { path: 'TRELLIS_AGENT_MODEL', message },
        ]);
      }
      return withUrl('openai-compatible', model, baseURL);
    }
    default:
      return none(NO_MODEL_MESSAGE);
  }
}

function withUrl(provider: ModelConfig['provider'], model: string, baseURL: string | undefined): ModelConfig {
  return baseURL ? { provider, model, baseURL } : { provider, model };
}

function parseEnv(env: Record<string, string | undefined>): z.output<typeof envSchema> {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'environment');
  return parsed.data;
}

/**
 * The provider used when no model is configured: every call fails with
 * `NoModelConfiguredError`, whose message says which variables to set.
 */
export class UnconfiguredModel implements ModelProvider {
  readonly provider = 'none';
  readonly model = 'none';

  constructor(private readonly reason: string = NO_MODEL_MESSAGE) {}

  async generate(_request: ModelRequest): Promise<ModelResponse> {
    throw new NoModelConfiguredError(
      this.reason === NO_MODEL_MESSAGE ? NO_MODEL_MESSAGE : `${NO_MODEL_MESSAGE} (${this.reason})`,
    );
  }
}
