/**
 * Helpers for the assistant's end-to-end tests: reading what the assistant sent the model
 * (OpenAI Chat Completions bodies, as the simulator from `@trellis/agent/testing` records
 * them), and reading Server-Sent Events through the gateway.
 */

/** One tool result the assistant sent back to the model. */
export interface SentToolResult {
  toolCallId: string;
  name: string;
  /** The parsed content (tool results are JSON). */
  value: unknown;
  /** The error code, when the result is an error. */
  errorCode: string | undefined;
}

interface ChatMessage {
  role: string;
  content?: string | null;
  tool_calls?: Array<{ id: string; function: { name: string; arguments: string } }>;
  tool_call_id?: string;
}

/** The tool results at the end of a Chat Completions request body (the latest turn's). */
export function sentToolResults(body: Record<string, unknown>): SentToolResult[] {
  const messages = (body.messages ?? []) as ChatMessage[];
  const names = new Map<string, string>();
  for (const m of messages) for (const c of m.tool_calls ?? []) names.set(c.id, c.function.name);
  const out: SentToolResult[] = [];
  for (let i = messages.length - 1; i >= 0 && messages[i]?.role === 'tool'; i--) {
    const m = messages[i] as ChatMessage;
    let value: unknown = m.content;
    try {
      value = JSON.parse(m.content ?? 'null');
    } catch {
      // a plain-text result stays text
    }
    const error = (value as { error?: { code?: string } } | null)?.error;
    out.unshift({
      toolCallId: m.tool_call_id ?? '',
      name: names.get(m.tool_call_id ?? '') ?? '',
      value,
      errorCode: error?.code,
    });
  }
  return out;
}

/** The value of a tool result (throws when there is none, so a missing result fails the test). */
export function resultValue<T>(result: SentToolResult | undefined): T {
  if (!result) throw new Error('no tool result where one was expected');
  return result.value as T;
}

/** The system prompt of a Chat Completions request body. */
export function systemPromptOf(body: Record<string, unknown>): string {
  const messages = (body.messages ?? []) as ChatMessage[];
  return messages.find((m) => m.role === 'system' || m.role === 'developer')?.content ?? '';
}

/** One Server-Sent Event. */
export interface SseFrame {
  event: string;
  data: unknown;
}

/** Reads a whole SSE response into frames (comments and heartbeats skipped). */
export async function readSse(res: Response): Promise<SseFrame[]> {
  const text = await res.text();
  const frames: SseFrame[] = [];
  for (const block of text.split('\n\n')) {
    let event = 'message';
    const data: string[] = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) event = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
    }
    if (data.length === 0) continue;
    const raw = data.join('\n');
    let parsed: unknown = raw;
    try {
      parsed = JSON.parse(raw);
    } catch {
      // keep the raw text
    }
    frames.push({ event, data: parsed });
  }
  return frames;
}
