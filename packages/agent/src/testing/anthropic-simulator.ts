/**
 * An honest local simulator of the Anthropic Messages API (`POST /v1/messages`): it checks
 * what the real API checks (key, version header, body shape, tool_use/tool_result pairing),
 * answers in the real JSON and SSE formats, fails in the real error format, and records every
 * request. Point the real `@anthropic-ai/sdk` client at `sim.url`.
 */
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import {
  type SimFailure,
  type SimRequest,
  SimServer,
  type SimTurn,
  type SimulatorOptions,
  simTokens,
} from './sim-server.js';

const block = z.discriminatedUnion('type', [
  z.object({ type: z.literal('text'), text: z.string().min(1, 'text content blocks must be non-empty') }),
  z.object({
    type: z.literal('tool_use'),
    id: z.string().min(1),
    name: z.string().min(1),
    input: z.record(z.string(), z.unknown()),
  }),
  z.object({
    type: z.literal('tool_result'),
    tool_use_id: z.string().min(1),
    content: z
      .union([z.string(), z.array(z.object({ type: z.literal('text'), text: z.string() }))])
      .optional(),
    is_error: z.boolean().optional(),
  }),
]);
const message = z.object({
  role: z.enum(['user', 'assistant']),
  content: z.union([z.string().min(1), z.array(block).min(1)]),
});
const requestSchema = z.object({
  model: z.string().min(1),
  max_tokens: z.number().int().positive(),
  messages: z.array(message).min(1),
  system: z.union([z.string(), z.array(z.object({ type: z.literal('text'), text: z.string() }))]).optional(),
  tools: z
    .array(
      z.object({
        name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
        description: z.string().optional(),
        input_schema: z.object({ type: z.literal('object') }).loose(),
      }),
    )
    .optional(),
  stream: z.boolean().optional(),
});
type AnthropicBody = z.output<typeof requestSchema>;

/** The Anthropic Messages API on loopback. */
export class AnthropicSimulator extends SimServer {
  private seq = 0;

  private constructor(options: SimulatorOptions) {
    super(options);
  }

  /** Starts a simulator on a free loopback port. */
  static async start(options: SimulatorOptions = {}): Promise<AnthropicSimulator> {
    const sim = new AnthropicSimulator(options);
    await sim.listen('');
    return sim;
  }

  protected async handle(request: SimRequest, res: ServerResponse): Promise<void> {
    if (request.method !== 'POST' || request.path !== '/v1/messages') {
      return this.error(res, 404, 'not_found_error', `Not found: ${request.method} ${request.path}`);
    }
    const key = this.options.apiKey;
    // The API takes the key as `x-api-key` or, as SDK 1.x sends it, `Authorization: Bearer`.
    if (
      key !== undefined &&
      request.headers['x-api-key'] !== key &&
      request.headers.authorization !== `Bearer ${key}`
    ) {
      return this.error(res, 401, 'authentication_error', 'invalid x-api-key');
    }
    if (!request.headers['anthropic-version']) {
      return this.error(res, 400, 'invalid_request_error', 'anthropic-version: header is required');
    }
    const parsed = requestSchema.safeParse(request.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return this.error(res, 400, 'invalid_request_error', `${issue?.path.join('.')}: ${issue?.message}`);
    }
    const problem = conversationProblem(parsed.data);
    if (problem) return this.error(res, 400, 'invalid_request_error', problem);
    const entry = this.next(parsed.data as Record<string, unknown>);
    if (!entry) return this.error(res, 500, 'api_error', 'simulator script exhausted');
    if ('hang' in entry) return this.hang(res);
    if ('fail' in entry) return this.failWith(res, entry);
    const id = `msg_sim_${++this.seq}`;
    const content = contentBlocks(entry, this.seq);
    const stopReason = entry.stopReason ?? (entry.toolCalls?.length ? 'tool_use' : 'end_turn');
    const usage = entry.usage ?? { input: simTokens(parsed.data.messages), output: simTokens(content) };
    if (!parsed.data.stream) {
      return this.json(res, 200, {
        id,
        type: 'message',
        role: 'assistant',
        model: parsed.data.model,
        content,
        stop_reason: stopReason,
        stop_sequence: null,
        usage: {
          input_tokens: usage.input,
          output_tokens: usage.output,
          cache_creation_input_tokens: 0,
          cache_read_input_tokens: 0,
        },
      });
    }
    return this.sse(res, this.streamEvents(id, parsed.data.model, content, stopReason, usage));
  }

  private streamEvents(
    id: string,
    model: string,
    content: ReturnType<typeof contentBlocks>,
    stopReason: string,
    usage: { input: number; output: number },
  ): Array<{ event: string; data: string }> {
    const events: Array<{ event: string; data: string }> = [];
    const push = (event: string, data: Record<string, unknown>) =>
      events.push({ event, data: JSON.stringify({ type: event, ...data }) });
    push('message_start', {
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: usage.input, output_tokens: 1 },
      },
    });
    content.forEach((b, index) => {
      if (b.type === 'text') {
        push('content_block_start', { index, content_block: { type: 'text', text: '' } });
        if (index === 0) events.push({ event: 'ping', data: '{"type": "ping"}' });
        for (const text of this.pieces(b.text))
          push('content_block_delta', { index, delta: { type: 'text_delta', text } });
      } else {
        push('content_block_start', {
          index,
          content_block: { type: 'tool_use', id: b.id, name: b.name, input: {} },
        });
        for (const partial_json of this.pieces(b.raw)) {
          push('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json } });
        }
      }
      push('content_block_stop', { index });
    });
    push('message_delta', {
      delta: { stop_reason: stopReason, stop_sequence: null },
      usage: { output_tokens: usage.output },
    });
    push('message_stop', {});
    return events;
  }

  private failWith(res: ServerResponse, { fail }: SimFailure): void {
    this.error(res, fail.status, fail.type, fail.message, fail.headers);
  }

  private error(
    res: ServerResponse,
    status: number,
    type: string,
    message: string,
    headers: Record<string, string> = {},
  ): void {
    this.json(
      res,
      status,
      { type: 'error', error: { type, message } },
      { 'request-id': `req_sim_${this.seq}`, ...headers },
    );
  }
}

type SimBlock =
  | { type: 'text'; text: string }
  | { type: 'tool_use'; id: string; name: string; input: unknown; raw: string };

function contentBlocks(turn: SimTurn, seq: number): SimBlock[] {
  const blocks: SimBlock[] = [];
  if (turn.text) blocks.push({ type: 'text', text: turn.text });
  (turn.toolCalls ?? []).forEach((call, i) => {
    const raw = call.rawArguments ?? JSON.stringify(call.input);
    blocks.push({
      type: 'tool_use',
      id: call.id ?? `toolu_sim_${seq}_${i}`,
      name: call.name,
      input: call.input,
      raw,
    });
  });
  return blocks;
}

/** The pairing rules the real API enforces between tool_use and tool_result blocks. */
function conversationProblem(body: AnthropicBody): string | undefined {
  const messages = body.messages;
  if (messages[0]?.role !== 'user') return 'messages: first message must use the "user" role';
  for (let i = 0; i < messages.length; i++) {
    const m = messages[i] as AnthropicBody['messages'][number];
    const blocks = typeof m.content === 'string' ? [] : m.content;
    const results = blocks.filter((b) => b.type === 'tool_result');
    if (m.role === 'assistant' && results.length > 0)
      return `messages.${i}: tool_result blocks belong in user messages`;
    if (m.role === 'user' && blocks.some((b) => b.type === 'tool_use'))
      return `messages.${i}: tool_use blocks belong in assistant messages`;
    const prev = messages[i - 1];
    const prevUses =
      prev && prev.role === 'assistant' && typeof prev.content !== 'string'
        ? prev.content.flatMap((b) => (b.type === 'tool_use' ? [b.id] : []))
        : [];
    for (const r of results) {
      if (!prevUses.includes(r.tool_use_id)) {
        return `messages.${i}.content: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${r.tool_use_id}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`;
      }
    }
    if (m.role === 'user' && prevUses.length > 0) {
      const answered = new Set(results.map((r) => r.tool_use_id));
      const missing = prevUses.filter((id) => !answered.has(id));
      if (missing.length > 0) {
        return `messages.${i}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}`;
      }
      const firstOther = blocks.findIndex((b) => b.type !== 'tool_result');
      if (firstOther !== -1 && blocks.slice(firstOther).some((b) => b.type === 'tool_result')) {
        return `messages.${i}: tool_result blocks must come before any other content`;
      }
    }
  }
  const last = messages[messages.length - 1];
  if (
    last?.role === 'assistant' &&
    typeof last.content !== 'string' &&
    last.content.some((b) => b.type === 'tool_use')
  ) {
    return 'messages: the final assistant message has tool_use blocks without results';
  }
  return undefined;
}
