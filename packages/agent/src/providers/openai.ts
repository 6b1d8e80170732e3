import OpenAI from 'openai';
import type { ModelDelta, ModelRequest, ModelResponse, ToolCall } from '../messages.js';
import { parseToolArguments } from '../messages.js';
import {
  fromOpenAICompletion,
  fromOpenAIFinishReason,
  type MaxTokensField,
  toOpenAIRequest,
  usageOrEstimate,
} from './openai-mapping.js';
import { emitResponseDeltas, type GenerateOptions, type ModelProvider, providerFailure } from './provider.js';

/** Configuration of {@link OpenAIProvider}. */
export interface OpenAIProviderOptions {
  model: string;
  /** Required by OpenAI; local servers (Ollama, llama.cpp) accept any value. */
  apiKey?: string;
  /** e.g. `http://localhost:11434/v1` for Ollama (default the SDK's OpenAI URL). */
  baseURL?: string;
  /** `openai` (default) or `openai-compatible`, for logs, traces and records. */
  provider?: 'openai' | 'openai-compatible';
  /** Default `max_completion_tokens` for OpenAI, `max_tokens` for compatible servers. */
  maxTokensField?: MaxTokensField;
  /** Output bound when the request names none (default: let the server decide). */
  maxOutputTokens?: number;
  /** Stream responses over SSE (default true); false uses one JSON response. */
  stream?: boolean;
  /** SDK retries on 408/409/429/5xx and connection errors (default 2). */
  maxRetries?: number;
  /** Per-request timeout in ms (default 60 000). */
  timeoutMs?: number;
}

/**
 * OpenAI Chat Completions through the official `openai` SDK, and any server that speaks the
 * same API (Ollama, llama.cpp's `llama-server`, vLLM) via `baseURL`.
 *
 * @example
 * ```ts
 * const local = new OpenAIProvider({
 *   provider: 'openai-compatible', baseURL: 'http://localhost:11434/v1', model: 'qwen2.5:7b',
 * });
 * ```
 */
export class OpenAIProvider implements ModelProvider {
  readonly provider: 'openai' | 'openai-compatible';
  readonly model: string;
  private readonly client: OpenAI;
  private readonly maxTokensField: MaxTokensField;
  private readonly maxOutputTokens: number | undefined;
  private readonly streaming: boolean;

  constructor(options: OpenAIProviderOptions) {
    this.provider = options.provider ?? 'openai';
    this.model = options.model;
    this.maxTokensField =
      options.maxTokensField ?? (this.provider === 'openai' ? 'max_completion_tokens' : 'max_tokens');
    this.maxOutputTokens = options.maxOutputTokens;
    this.streaming = options.stream ?? true;
    this.client = new OpenAI({
      apiKey: options.apiKey ?? 'not-needed',
      baseURL: options.baseURL,
      maxRetries: options.maxRetries ?? 2,
      timeout: options.timeoutMs ?? 60_000,
    });
  }

  async generate(request: ModelRequest, options: GenerateOptions = {}): Promise<ModelResponse> {
    const params = toOpenAIRequest(request, this.model, this.maxTokensField, this.maxOutputTokens);
    try {
      if (!this.streaming) {
        const completion = await this.client.chat.completions.create(params, { signal: options.signal });
        const response = fromOpenAICompletion(completion, request);
        emitResponseDeltas(response, options.onDelta);
        return response;
      }
      const stream = await this.client.chat.completions.create(
        { ...params, stream: true, stream_options: { include_usage: true } },
        { signal: options.signal },
      );
      return await assembleStream(stream, request, options.onDelta);
    } catch (err) {
      throw providerFailure(this.provider, err, options.signal);
    }
  }
}

interface PartialCall {
  id: string;
  name: string;
  args: string;
  started: boolean;
}

/**
 * Folds completion chunks into one response. Tool-call fragments are keyed by their `index`
 * (never by arrival order), so parallel calls streamed interleaved are reassembled intact
 * (langgraphjs #1289). Servers that omit `index` get one assigned from the call id.
 */
async function assembleStream(
  stream: AsyncIterable<OpenAI.Chat.ChatCompletionChunk>,
  request: ModelRequest,
  onDelta: ((delta: ModelDelta) => void) | undefined,
): Promise<ModelResponse> {
  let content = '';
  let finish: string | null | undefined;
  let model: string | undefined;
  let usage: OpenAI.CompletionUsage | undefined;
  const calls = new Map<number, PartialCall>();
  let lastIndex = -1;
  for await (const chunk of stream) {
    model ??= chunk.model;
    if (chunk.usage) usage = chunk.usage;
    const choice = chunk.choices[0];
    if (!choice) continue;
    if (choice.finish_reason) finish = choice.finish_reason;
    const delta = choice.delta;
    if (delta?.content) {
      content += delta.content;
      onDelta?.({ type: 'text', text: delta.content });
    }
    for (const piece of delta?.tool_calls ?? []) {
      const index = indexOf(piece, calls, lastIndex);
      lastIndex = index;
      const call = calls.get(index) ?? { id: '', name: '', args: '', started: false };
      calls.set(index, call);
      if (piece.id) call.id = piece.id;
      if (piece.function?.name) call.name += piece.function.name;
      if (!call.started && call.id && call.name) {
        call.started = true;
        onDelta?.({ type: 'tool-call-start', index, id: call.id, name: call.name });
        if (call.args) onDelta?.({ type: 'tool-call-delta', index, id: call.id, argumentsDelta: call.args });
      }
      const fragment = piece.function?.arguments;
      if (fragment) {
        call.args += fragment;
        if (call.started)
          onDelta?.({ type: 'tool-call-delta', index, id: call.id, argumentsDelta: fragment });
      }
    }
  }
  const toolCalls: ToolCall[] = [...calls.entries()]
    .sort(([a], [b]) => a - b)
    .map(([index, c]) => ({ id: c.id || `call_${index}`, name: c.name, ...parseToolArguments(c.args) }));
  return {
    content,
    toolCalls,
    stopReason: fromOpenAIFinishReason(finish, toolCalls.length > 0),
    usage: usageOrEstimate(usage, request, content, toolCalls),
    ...(model ? { model } : {}),
  };
}

function indexOf(
  piece: OpenAI.Chat.ChatCompletionChunk.Choice.Delta.ToolCall,
  calls: Map<number, PartialCall>,
  lastIndex: number,
): number {
  if (typeof piece.index === 'number') return piece.index;
  if (piece.id) {
    for (const [i, c] of calls) if (c.id === piece.id) return i;
    return calls.size;
  }
  return Math.max(lastIndex, 0);
}
