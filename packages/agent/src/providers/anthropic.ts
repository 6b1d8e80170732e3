import Anthropic from '@anthropic-ai/sdk';
import type { ModelDelta, ModelRequest, ModelResponse, ToolCall } from '../messages.js';
import { parseToolArguments } from '../messages.js';
import {
  anthropicInputTokens,
  fromAnthropicMessage,
  fromAnthropicStopReason,
  toAnthropicRequest,
} from './anthropic-mapping.js';
import { emitResponseDeltas, type GenerateOptions, type ModelProvider, providerFailure } from './provider.js';

/** Configuration of {@link AnthropicProvider}. */
export interface AnthropicProviderOptions {
  apiKey: string;
  model: string;
  /** API base URL (default the SDK's: `https://api.anthropic.com`). */
  baseURL?: string;
  /** `max_tokens` when the request names none (default 4096; Anthropic requires one). */
  maxOutputTokens?: number;
  /** Stream responses over SSE (default true); false uses one JSON response. */
  stream?: boolean;
  /** SDK retries on 408/409/429/5xx and connection errors (default 2). */
  maxRetries?: number;
  /** Per-request timeout in ms (default 60 000). */
  timeoutMs?: number;
}

/**
 * Claude through the official `@anthropic-ai/sdk` Messages API.
 *
 * @example
 * ```ts
 * const model = new AnthropicProvider({ apiKey: process.env.ANTHROPIC_API_KEY!, model: 'claude-sonnet-5-5' });
 * ```
 */
export class AnthropicProvider implements ModelProvider {
  readonly provider = 'anthropic';
  readonly model: string;
  private readonly client: Anthropic;
  private readonly maxOutputTokens: number;
  private readonly streaming: boolean;

  constructor(options: AnthropicProviderOptions) {
    this.model = options.model;
    this.maxOutputTokens = options.maxOutputTokens ?? 4096;
    this.streaming = options.stream ?? true;
    this.client = new Anthropic({
      apiKey: options.apiKey,
      baseURL: options.baseURL,
      maxRetries: options.maxRetries ?? 2,
      timeout: options.timeoutMs ?? 60_000,
    });
  }

  async generate(request: ModelRequest, options: GenerateOptions = {}): Promise<ModelResponse> {
    const params = toAnthropicRequest(request, this.model, this.maxOutputTokens);
    try {
      if (!this.streaming) {
        const message = await this.client.messages.create(params, { signal: options.signal });
        const response = fromAnthropicMessage(message);
        emitResponseDeltas(response, options.onDelta);
        return response;
      }
      const stream = await this.client.messages.create(
        { ...params, stream: true },
        { signal: options.signal },
      );
      return await assembleStream(stream, options.onDelta);
    } catch (err) {
      throw providerFailure(this.provider, err, options.signal);
    }
  }
}

interface OpenBlock {
  kind: 'text' | 'tool' | 'other';
  toolIndex: number;
  id: string;
  name: string;
  json: string;
}

/**
 * Folds Anthropic's raw stream events into one response. Tool input arrives as
 * `input_json_delta` fragments per content-block index, so parallel calls never mix.
 */
async function assembleStream(
  stream: AsyncIterable<Anthropic.RawMessageStreamEvent>,
  onDelta: ((delta: ModelDelta) => void) | undefined,
): Promise<ModelResponse> {
  const response: ModelResponse = {
    content: '',
    toolCalls: [],
    stopReason: 'other',
    usage: { inputTokens: 0, outputTokens: 0 },
  };
  const blocks = new Map<number, OpenBlock>();
  const calls: (ToolCall | undefined)[] = [];
  let toolCount = 0;
  for await (const event of stream) {
    switch (event.type) {
      case 'message_start':
        response.model = event.message.model;
        response.usage.inputTokens = anthropicInputTokens(event.message.usage);
        response.usage.outputTokens = event.message.usage.output_tokens ?? 0;
        break;
      case 'content_block_start': {
        const block = event.content_block;
        if (block.type === 'text') {
          blocks.set(event.index, { kind: 'text', toolIndex: -1, id: '', name: '', json: '' });
          if (block.text) {
            response.content += block.text;
            onDelta?.({ type: 'text', text: block.text });
          }
        } else if (block.type === 'tool_use') {
          const open: OpenBlock = {
            kind: 'tool',
            toolIndex: toolCount++,
            id: block.id,
            name: block.name,
            json: '',
          };
          blocks.set(event.index, open);
          onDelta?.({ type: 'tool-call-start', index: open.toolIndex, id: open.id, name: open.name });
        } else {
          blocks.set(event.index, { kind: 'other', toolIndex: -1, id: '', name: '', json: '' });
        }
        break;
      }
      case 'content_block_delta': {
        const open = blocks.get(event.index);
        if (event.delta.type === 'text_delta') {
          response.content += event.delta.text;
          onDelta?.({ type: 'text', text: event.delta.text });
        } else if (event.delta.type === 'input_json_delta' && open?.kind === 'tool') {
          open.json += event.delta.partial_json;
          onDelta?.({
            type: 'tool-call-delta',
            index: open.toolIndex,
            id: open.id,
            argumentsDelta: event.delta.partial_json,
          });
        }
        break;
      }
      case 'content_block_stop': {
        const open = blocks.get(event.index);
        if (open?.kind === 'tool')
          calls[open.toolIndex] = { id: open.id, name: open.name, ...parseToolArguments(open.json) };
        break;
      }
      case 'message_delta':
        response.stopReason = fromAnthropicStopReason(event.delta.stop_reason);
        if (event.usage.output_tokens != null) response.usage.outputTokens = event.usage.output_tokens;
        if (event.usage.input_tokens != null) response.usage.inputTokens = anthropicInputTokens(event.usage);
        break;
      default:
        break;
    }
  }
  // A block cut off before content_block_stop (stream ended early) still yields its call.
  for (const open of blocks.values()) {
    if (open.kind === 'tool' && !calls[open.toolIndex]) {
      calls[open.toolIndex] = { id: open.id, name: open.name, ...parseToolArguments(open.json) };
    }
  }
  response.toolCalls = calls.filter((c): c is ToolCall => c !== undefined);
  return response;
}
