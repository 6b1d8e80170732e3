/** Mapping between Trellis messages and the Anthropic Messages API wire format. */
import type Anthropic from '@anthropic-ai/sdk';
import type { Message, ModelRequest, ModelResponse, StopReason, ToolCall } from '../messages.js';

type MessageParam = Anthropic.MessageParam;
type ContentBlockParam = Anthropic.ContentBlockParam;

/** The request body for `messages.create` (without `stream`). */
export function toAnthropicRequest(
  request: ModelRequest,
  model: string,
  defaultMaxTokens: number,
): Anthropic.MessageCreateParamsNonStreaming {
  const params: Anthropic.MessageCreateParamsNonStreaming = {
    model,
    max_tokens: request.maxOutputTokens ?? defaultMaxTokens,
    messages: toAnthropicMessages(request.messages),
  };
  if (request.system) params.system = request.system;
  if (request.tools.length > 0) {
    params.tools = request.tools.map((t) => ({
      name: t.name,
      description: t.description,
      input_schema: t.inputSchema as Anthropic.Tool.InputSchema,
    }));
  }
  return params;
}

/**
 * Messages in Anthropic's shape: tool results travel in a user turn, and consecutive turns of
 * the same role are merged (a tool-results turn followed by the user's next question).
 */
export function toAnthropicMessages(messages: readonly Message[]): MessageParam[] {
  const out: MessageParam[] = [];
  const push = (role: 'user' | 'assistant', blocks: ContentBlockParam[]) => {
    if (blocks.length === 0) return;
    const last = out[out.length - 1];
    if (last && last.role === role) {
      const prior: ContentBlockParam[] =
        typeof last.content === 'string' ? [{ type: 'text', text: last.content }] : [...last.content];
      last.content = [...prior, ...blocks];
    } else {
      out.push({ role, content: blocks });
    }
  };
  for (const m of messages) {
    if (m.role === 'user') {
      push('user', [{ type: 'text', text: m.content }]);
    } else if (m.role === 'assistant') {
      const blocks: ContentBlockParam[] = [];
      if (m.content) blocks.push({ type: 'text', text: m.content });
      for (const call of m.toolCalls) {
        blocks.push({ type: 'tool_use', id: call.id, name: call.name, input: asInputObject(call) });
      }
      push('assistant', blocks);
    } else {
      push(
        'user',
        m.results.map((r) => ({
          type: 'tool_result',
          tool_use_id: r.toolCallId,
          content: r.content,
          is_error: r.isError,
        })),
      );
    }
  }
  // A lone text block is sent as a plain string, the API's most common form.
  return out.map((m) => {
    const blocks = m.content;
    if (Array.isArray(blocks) && blocks.length === 1 && blocks[0]?.type === 'text') {
      return { role: m.role, content: blocks[0].text };
    }
    return m;
  });
}

/** Anthropic requires an object for `input`; a malformed call is replayed as `{}`. */
function asInputObject(call: ToolCall): Record<string, unknown> {
  const args = call.arguments;
  return typeof args === 'object' && args !== null && !Array.isArray(args)
    ? (args as Record<string, unknown>)
    : {};
}

/** The stop reasons Trellis distinguishes. */
export function fromAnthropicStopReason(reason: string | null | undefined): StopReason {
  switch (reason) {
    case 'end_turn':
    case 'tool_use':
    case 'max_tokens':
    case 'stop_sequence':
    case 'refusal':
      return reason;
    default:
      return 'other';
  }
}

/** Total input tokens, cache reads and writes included (all count against a budget). */
export function anthropicInputTokens(usage: {
  input_tokens?: number | null;
  cache_creation_input_tokens?: number | null;
  cache_read_input_tokens?: number | null;
}): number {
  return (
    (usage.input_tokens ?? 0) +
    (usage.cache_creation_input_tokens ?? 0) +
    (usage.cache_read_input_tokens ?? 0)
  );
}

/** A complete (non-streamed) Anthropic message as a Trellis response. */
export function fromAnthropicMessage(message: Anthropic.Message): ModelResponse {
  let content = '';
  const toolCalls: ToolCall[] = [];
  for (const block of message.content) {
    if (block.type === 'text') content += block.text;
    else if (block.type === 'tool_use')
      toolCalls.push({ id: block.id, name: block.name, arguments: block.input });
  }
  return {
    content,
    toolCalls,
    stopReason: fromAnthropicStopReason(message.stop_reason),
    usage: { inputTokens: anthropicInputTokens(message.usage), outputTokens: message.usage.output_tokens },
    model: message.model,
  };
}
