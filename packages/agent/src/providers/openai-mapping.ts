/** Mapping between Trellis messages and the OpenAI Chat Completions wire format. */
import type OpenAI from 'openai';
import type { Message, ModelRequest, ModelResponse, StopReason, ToolCall } from '../messages.js';
import { parseToolArguments } from '../messages.js';
import { estimateTokens } from './provider.js';

type ChatMessage = OpenAI.Chat.ChatCompletionMessageParam;

/** Which request field bounds the output: OpenAI's current one, or the older one most servers know. */
export type MaxTokensField = 'max_completion_tokens' | 'max_tokens';

/** The request body for `chat.completions.create` (without `stream`). */
export function toOpenAIRequest(
  request: ModelRequest,
  model: string,
  maxTokensField: MaxTokensField,
  defaultMaxTokens: number | undefined,
): OpenAI.Chat.ChatCompletionCreateParamsNonStreaming {
  const params: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming = {
    model,
    messages: toOpenAIMessages(request),
  };
  const maxTokens = request.maxOutputTokens ?? defaultMaxTokens;
  if (maxTokens !== undefined) params[maxTokensField] = maxTokens;
  if (request.tools.length > 0) {
    params.tools = request.tools.map((t) => ({
      type: 'function',
      function: { name: t.name, description: t.description, parameters: t.inputSchema },
    }));
  }
  return params;
}

/** Messages in OpenAI's shape: system first, one `tool` message per tool result. */
export function toOpenAIMessages(request: Pick<ModelRequest, 'system' | 'messages'>): ChatMessage[] {
  const out: ChatMessage[] = [];
  if (request.system) out.push({ role: 'system', content: request.system });
  for (const m of request.messages) out.push(...toOpenAIMessage(m));
  return out;
}

function toOpenAIMessage(m: Message): ChatMessage[] {
  if (m.role === 'user') return [{ role: 'user', content: m.content }];
  if (m.role === 'tool') {
    return m.results.map((r) => ({ role: 'tool', tool_call_id: r.toolCallId, content: r.content }));
  }
  const message: OpenAI.Chat.ChatCompletionAssistantMessageParam = {
    role: 'assistant',
    content: m.content || null,
  };
  if (m.toolCalls.length > 0) {
    message.tool_calls = m.toolCalls.map((c) => ({
      id: c.id,
      type: 'function',
      function: { name: c.name, arguments: c.invalidJson ?? JSON.stringify(c.arguments ?? {}) },
    }));
  }
  return [message];
}

/**
 * The stop reason, corrected for servers (Ollama, some llama.cpp builds) that answer `stop`
 * even when the turn carries tool calls.
 */
export function fromOpenAIFinishReason(reason: string | null | undefined, hasToolCalls: boolean): StopReason {
  if (hasToolCalls) return 'tool_use';
  switch (reason) {
    case 'stop':
      return 'end_turn';
    case 'tool_calls':
    case 'function_call':
      return 'tool_use';
    case 'length':
      return 'max_tokens';
    case 'content_filter':
      return 'refusal';
    default:
      return 'other';
  }
}

/** A complete (non-streamed) completion as a Trellis response. */
export function fromOpenAICompletion(
  completion: OpenAI.Chat.ChatCompletion,
  request: ModelRequest,
): ModelResponse {
  const choice = completion.choices[0];
  const content = choice?.message.content ?? '';
  const toolCalls: ToolCall[] = [];
  for (const call of choice?.message.tool_calls ?? []) {
    if (call.type !== 'function') continue;
    toolCalls.push({ id: call.id, name: call.function.name, ...parseToolArguments(call.function.arguments) });
  }
  return {
    content,
    toolCalls,
    stopReason: fromOpenAIFinishReason(choice?.finish_reason, toolCalls.length > 0),
    usage: usageOrEstimate(completion.usage, request, content, toolCalls),
    model: completion.model,
  };
}

/** Reported usage, or an estimate when the server reports none (see `estimateTokens`). */
export function usageOrEstimate(
  usage: OpenAI.CompletionUsage | null | undefined,
  request: ModelRequest,
  content: string,
  toolCalls: readonly ToolCall[],
): ModelResponse['usage'] {
  if (usage) return { inputTokens: usage.prompt_tokens, outputTokens: usage.completion_tokens };
  const input = JSON.stringify([request.system ?? '', request.messages, request.tools]);
  const output = content + toolCalls.map((c) => c.invalidJson ?? JSON.stringify(c.arguments)).join('');
  return { inputTokens: estimateTokens(input), outputTokens: estimateTokens(output) };
}
