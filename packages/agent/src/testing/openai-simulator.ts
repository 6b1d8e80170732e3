/**
 * An honest local simulator of the OpenAI Chat Completions API (`POST /v1/chat/completions`),
 * as OpenAI and OpenAI-compatible servers (Ollama, llama.cpp) serve it: key check, body
 * shape, tool-call/tool-message pairing, JSON and SSE (`data: [DONE]`) responses, the real
 * error format, and every request recorded. Point the real `openai` client at `sim.url`.
 */
import type { ServerResponse } from 'node:http';
import { z } from 'zod';
import { type SimRequest, SimServer, type SimTurn, type SimulatorOptions, simTokens } from './sim-server.js';

const toolCall = z.object({
  id: z.string().min(1),
  type: z.literal('function'),
  function: z.object({ name: z.string().min(1), arguments: z.string() }),
});
const message = z.discriminatedUnion('role', [
  z.object({ role: z.enum(['system', 'developer']), content: z.string() }),
  z.object({ role: z.literal('user'), content: z.string() }),
  z.object({
    role: z.literal('assistant'),
    content: z.string().nullable().optional(),
    tool_calls: z.array(toolCall).optional(),
  }),
  z.object({ role: z.literal('tool'), tool_call_id: z.string().min(1), content: z.string() }),
]);
const requestSchema = z.object({
  model: z.string().min(1),
  messages: z.array(message).min(1),
  tools: z
    .array(
      z.object({
        type: z.literal('function'),
        function: z.object({
          name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/),
          description: z.string().optional(),
          parameters: z.record(z.string(), z.unknown()).optional(),
        }),
      }),
    )
    .optional(),
  stream: z.boolean().optional(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).optional(),
  max_tokens: z.number().int().positive().optional(),
  max_completion_tokens: z.number().int().positive().optional(),
});
type OpenAIBody = z.output<typeof requestSchema>;

/** Options that model the differences between OpenAI and compatible servers. */
export interface OpenAISimulatorOptions extends SimulatorOptions {
  /** Stream parallel tool calls interleaved, piece by piece, instead of one after another. */
  interleaveToolCalls?: boolean;
  /** Never report usage (as some compatible servers do). */
  omitUsage?: boolean;
  /** Answer `finish_reason: "stop"` even with tool calls (as Ollama does). */
  stopWithToolCalls?: boolean;
}

/** The OpenAI Chat Completions API on loopback. */
export class OpenAISimulator extends SimServer {
  private seq = 0;
  private readonly sim: OpenAISimulatorOptions;

  private constructor(options: OpenAISimulatorOptions) {
    super(options);
    this.sim = options;
  }

  /** Starts a simulator on a free loopback port; `sim.url` ends in `/v1` like OpenAI's. */
  static async start(options: OpenAISimulatorOptions = {}): Promise<OpenAISimulator> {
    const sim = new OpenAISimulator(options);
    await sim.listen('/v1');
    return sim;
  }

  protected async handle(request: SimRequest, res: ServerResponse): Promise<void> {
    if (request.method !== 'POST' || request.path !== '/v1/chat/completions') {
      return this.error(
        res,
        404,
        'invalid_request_error',
        `Unknown request URL: ${request.method} ${request.path}`,
      );
    }
    const key = this.options.apiKey;
    if (key !== undefined && request.headers.authorization !== `Bearer ${key}`) {
      return this.error(res, 401, 'invalid_request_error', 'Incorrect API key provided', 'invalid_api_key');
    }
    const parsed = requestSchema.safeParse(request.body);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return this.error(
        res,
        400,
        'invalid_request_error',
        `Invalid '${issue?.path.join('.')}': ${issue?.message}`,
      );
    }
    const problem = conversationProblem(parsed.data);
    if (problem) return this.error(res, 400, 'invalid_request_error', problem);
    const entry = this.next(parsed.data as Record<string, unknown>);
    if (!entry) return this.error(res, 500, 'server_error', 'simulator script exhausted');
    if ('hang' in entry) return this.hang(res);
    if ('fail' in entry)
      return this.error(
        res,
        entry.fail.status,
        entry.fail.type,
        entry.fail.message,
        null,
        entry.fail.headers,
      );
    const id = `chatcmpl-sim-${++this.seq}`;
    const calls = (entry.toolCalls ?? []).map((c, i) => ({
      id: c.id ?? `call_sim_${this.seq}_${i}`,
      name: c.name,
      args: c.rawArguments ?? JSON.stringify(c.input),
    }));
    const finish = entry.stopReason ?? (calls.length && !this.sim.stopWithToolCalls ? 'tool_calls' : 'stop');
    const usage = entry.usage ?? {
      input: simTokens(parsed.data.messages),
      output: simTokens([entry.text, calls]),
    };
    const usageBody = {
      prompt_tokens: usage.input,
      completion_tokens: usage.output,
      total_tokens: usage.input + usage.output,
    };
    const created = 1_700_000_000 + this.seq;
    const model = parsed.data.model;
    if (!parsed.data.stream) {
      const msg: Record<string, unknown> = { role: 'assistant', content: entry.text ?? null, refusal: null };
      if (calls.length)
        msg.tool_calls = calls.map((c) => ({
          id: c.id,
          type: 'function',
          function: { name: c.name, arguments: c.args },
        }));
      return this.json(res, 200, {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message: msg, finish_reason: finish, logprobs: null }],
        ...(this.sim.omitUsage ? {} : { usage: usageBody }),
      });
    }
    const chunk = (delta: Record<string, unknown>, finish_reason: string | null = null) => ({
      data: JSON.stringify({
        id,
        object: 'chat.completion.chunk',
        created,
        model,
        choices: [{ index: 0, delta, finish_reason, logprobs: null }],
      }),
    });
    const events = [chunk({ role: 'assistant', content: '' })];
    for (const text of this.pieces(entry.text ?? '')) events.push(chunk({ content: text }));
    events.push(...this.toolCallChunks(calls, chunk));
    events.push(chunk({}, finish));
    if (parsed.data.stream_options?.include_usage && !this.sim.omitUsage) {
      events.push({
        data: JSON.stringify({
          id,
          object: 'chat.completion.chunk',
          created,
          model,
          choices: [],
          usage: usageBody,
        }),
      });
    }
    events.push({ data: '[DONE]' });
    return this.sse(res, events);
  }

  private toolCallChunks(
    calls: Array<{ id: string; name: string; args: string }>,
    chunk: (delta: Record<string, unknown>) => { data: string },
  ): Array<{ data: string }> {
    const perCall = calls.map((c, index) => [
      chunk({
        tool_calls: [{ index, id: c.id, type: 'function', function: { name: c.name, arguments: '' } }],
      }),
      ...this.pieces(c.args).map((arguments_) =>
        chunk({ tool_calls: [{ index, function: { arguments: arguments_ } }] }),
      ),
    ]);
    if (!this.sim.interleaveToolCalls) return perCall.flat();
    const out: Array<{ data: string }> = [];
    for (let i = 0; perCall.some((p) => i < p.length); i++)
      for (const p of perCall) if (p[i]) out.push(p[i] as { data: string });
    return out;
  }

  private error(
    res: ServerResponse,
    status: number,
    type: string,
    message: string,
    code: string | null = null,
    headers: Record<string, string> = {},
  ): void {
    this.json(res, status, { error: { message, type, param: null, code } }, headers);
  }
}

/** The pairing rules OpenAI enforces between assistant `tool_calls` and `tool` messages. */
function conversationProblem(body: OpenAIBody): string | undefined {
  let open: string[] = [];
  let answered = new Set<string>();
  for (let i = 0; i < body.messages.length; i++) {
    const m = body.messages[i] as OpenAIBody['messages'][number];
    if (m.role === 'tool') {
      if (!open.includes(m.tool_call_id)) {
        return `Invalid parameter: messages with role 'tool' must be a response to a preceeding message with 'tool_calls'.`;
      }
      answered.add(m.tool_call_id);
      continue;
    }
    const unanswered = open.filter((id) => !answered.has(id));
    if (unanswered.length > 0) {
      return `An assistant message with 'tool_calls' must be followed by tool messages responding to each 'tool_call_id'. The following tool_call_ids did not have response messages: ${unanswered.join(', ')}`;
    }
    open = m.role === 'assistant' ? (m.tool_calls ?? []).map((c) => c.id) : [];
    answered = new Set();
  }
  const unanswered = open.filter((id) => !answered.has(id));
  return unanswered.length ? `tool_call_ids without response messages: ${unanswered.join(', ')}` : undefined;
}

export type { SimTurn };
