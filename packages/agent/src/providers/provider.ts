/**
 * One small interface in front of every model: Anthropic, OpenAI, any OpenAI-compatible
 * server, the scripted test model, and cassette replay. The agent loop only ever calls
 * `generate`; streaming providers report deltas through `onDelta` while they assemble the
 * same {@link ModelResponse} a non-streaming call returns, so there is one loop for both.
 */
import { isTrellisError } from '@trellis/core';
import { ModelProviderError } from '../errors.js';
import type { ModelDelta, ModelRequest, ModelResponse } from '../messages.js';

/** Per-call options of {@link ModelProvider.generate}. */
export interface GenerateOptions {
  /** Aborts the call (deadline reached, caller gone). */
  signal?: AbortSignal;
  /** Receives text and tool-call deltas as they arrive (streaming providers). */
  onDelta?: (delta: ModelDelta) => void;
}

/** A model behind Trellis's provider-neutral request and response. */
export interface ModelProvider {
  /** Provider family: `anthropic`, `openai`, `openai-compatible`, `scripted`, `cassette`, `none`. */
  readonly provider: string;
  /** The model name requests go to. */
  readonly model: string;
  /**
   * Produces one model turn.
   *
   * Throws `ModelProviderError` when the provider fails, `NoModelConfiguredError` when there
   * is no model, and the signal's reason when aborted.
   */
  generate(request: ModelRequest, options?: GenerateOptions): Promise<ModelResponse>;
}

/**
 * Reports a complete response as deltas, so a non-streaming call produces the same event
 * sequence (one chunk each) as a streamed one.
 */
export function emitResponseDeltas(response: ModelResponse, onDelta: GenerateOptions['onDelta']): void {
  if (!onDelta) return;
  if (response.content) onDelta({ type: 'text', text: response.content });
  response.toolCalls.forEach((call, index) => {
    onDelta({ type: 'tool-call-start', index, id: call.id, name: call.name });
    const args = call.invalidJson ?? JSON.stringify(call.arguments ?? {});
    onDelta({ type: 'tool-call-delta', index, id: call.id, argumentsDelta: args });
  });
}

/**
 * Normalises a failure of an SDK call: an abort becomes the signal's reason, a Trellis error
 * passes through, anything else becomes `ModelProviderError` with the HTTP status if any.
 */
export function providerFailure(provider: string, err: unknown, signal: AbortSignal | undefined): unknown {
  if (signal?.aborted) return signal.reason;
  if (isTrellisError(err)) return err;
  const status =
    typeof (err as { status?: unknown })?.status === 'number'
      ? (err as { status: number }).status
      : undefined;
  const message = err instanceof Error ? err.message : String(err);
  return new ModelProviderError(provider, `${provider} request failed: ${message}`, status, { cause: err });
}

/**
 * A rough token estimate (4 characters a token) for servers that report no usage, so a token
 * budget still bounds a run against them.
 */
export function estimateTokens(text: string): number {
  return Math.ceil(text.length / 4);
}
