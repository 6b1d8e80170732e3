/**
 * A deterministic model for tests: it answers with a given sequence of turns (text, tool calls,
 * malformed arguments, errors, hangs), streams them as deltas like a real provider, records
 * every request, and checks each one against the step's expectation.
 */
import { ScriptMismatchError } from '../errors.js';
import type { ModelDelta, ModelRequest, ModelResponse, StopReason, ToolResult, Usage } from '../messages.js';
import { parseToolArguments } from '../messages.js';
import { estimateTokens, type GenerateOptions, type ModelProvider } from './provider.js';

/** A model turn to reply with. */
export interface ScriptedTurn {
  text?: string;
  toolCalls?: Array<{ id?: string; name: string; arguments?: unknown; rawArguments?: string }>;
  /** Default: `tool_use` when there are tool calls, else `end_turn`. */
  stopReason?: StopReason;
  /** Default: estimated from the request and the reply. */
  usage?: Partial<Usage>;
}

/** One step of a script: what to check in the request, and how to answer. */
export interface ScriptStep {
  /**
   * Checks the request. Throw (e.g. with `expect`), or return `false` or a message, to fail
   * the run with `ScriptMismatchError`.
   */
  expect?: (request: ModelRequest) => unknown;
  /** The reply, fixed or computed from the request. */
  reply?: ScriptedTurn | ((request: ModelRequest) => ScriptedTurn);
  /** Throw this instead of replying (a provider failure). */
  error?: unknown;
  /** Never answer; reject only when the call's signal aborts (deadline tests). */
  hang?: true;
}

/** Options of {@link ScriptedModel}. */
export interface ScriptedModelOptions {
  model?: string;
  /** Stream text and arguments in pieces of this many characters (default 5). */
  chunkSize?: number;
}

/**
 * The scripted test model.
 *
 * @example
 * ```ts
 * const model = new ScriptedModel([
 *   { reply: { toolCalls: [{ name: 'search_orders', arguments: { status: 'shipped' } }] } },
 *   { expect: (req) => lastToolResults(req)[0]?.isError === false, reply: { text: 'You have 2 shipped orders.' } },
 * ]);
 * const result = await agent.run({ user, input: 'What has shipped?' });
 * model.assertDone();
 * ```
 */
export class ScriptedModel implements ModelProvider {
  readonly provider = 'scripted';
  readonly model: string;
  /** Every request received (deep copies), oldest first. */
  readonly requests: ModelRequest[] = [];
  private readonly steps: Array<ScriptStep | ScriptedTurn>;
  private readonly chunkSize: number;

  constructor(steps: Array<ScriptStep | ScriptedTurn>, options: ScriptedModelOptions = {}) {
    this.steps = [...steps];
    this.model = options.model ?? 'scripted-model';
    this.chunkSize = options.chunkSize ?? 5;
  }

  /** Steps not yet consumed. */
  remaining(): number {
    return this.steps.length - this.requests.length;
  }

  /** Throws `ScriptMismatchError` unless every step was used. */
  assertDone(): void {
    if (this.remaining() !== 0) {
      throw new ScriptMismatchError(
        `Scripted model: ${this.remaining()} of ${this.steps.length} steps were never requested`,
      );
    }
  }

  async generate(request: ModelRequest, options: GenerateOptions = {}): Promise<ModelResponse> {
    const index = this.requests.length;
    this.requests.push(structuredClone(request));
    const entry = this.steps[index];
    if (!entry)
      throw new ScriptMismatchError(
        `Scripted model: unexpected request #${index + 1}; the script has ${this.steps.length} steps`,
      );
    const step: ScriptStep = isStep(entry) ? entry : { reply: entry };
    if (step.expect) {
      let verdict: unknown;
      try {
        verdict = step.expect(request);
      } catch (err) {
        throw new ScriptMismatchError(
          `Scripted model: request #${index + 1} failed its expectation: ${(err as Error).message}`,
          { cause: err },
        );
      }
      if (verdict === false || typeof verdict === 'string') {
        throw new ScriptMismatchError(
          `Scripted model: request #${index + 1} failed its expectation${verdict ? `: ${verdict}` : ''}`,
        );
      }
    }
    if (step.hang) return waitForAbort(options.signal);
    if (step.error !== undefined) throw step.error;
    const turn = typeof step.reply === 'function' ? step.reply(request) : (step.reply ?? {});
    const response = this.toResponse(turn, index, request);
    this.stream(response, turn, options.onDelta);
    return response;
  }

  private toResponse(turn: ScriptedTurn, index: number, request: ModelRequest): ModelResponse {
    const toolCalls = (turn.toolCalls ?? []).map((c, i) => {
      const id = c.id ?? `call_${index + 1}_${i + 1}`;
      return c.rawArguments !== undefined
        ? { id, name: c.name, ...parseToolArguments(c.rawArguments) }
        : { id, name: c.name, arguments: c.arguments ?? {} };
    });
    const content = turn.text ?? '';
    return {
      content,
      toolCalls,
      stopReason: turn.stopReason ?? (toolCalls.length > 0 ? 'tool_use' : 'end_turn'),
      usage: {
        inputTokens: turn.usage?.inputTokens ?? estimateTokens(JSON.stringify(request)),
        outputTokens:
          turn.usage?.outputTokens ?? estimateTokens(content + JSON.stringify(turn.toolCalls ?? [])),
      },
      model: this.model,
    };
  }

  /** Emits the reply as a real provider streams it: text pieces, then calls' arguments interleaved. */
  private stream(response: ModelResponse, turn: ScriptedTurn, onDelta: GenerateOptions['onDelta']): void {
    if (!onDelta) return;
    for (const text of pieces(response.content, this.chunkSize)) onDelta({ type: 'text', text });
    const args = response.toolCalls.map((c, i) =>
      pieces(turn.toolCalls?.[i]?.rawArguments ?? JSON.stringify(c.arguments), this.chunkSize),
    );
    response.toolCalls.forEach((c, index) => {
      onDelta({ type: 'tool-call-start', index, id: c.id, name: c.name });
    });
    const longest = Math.max(0, ...args.map((a) => a.length));
    for (let p = 0; p < longest; p++) {
      response.toolCalls.forEach((c, index) => {
        const piece = args[index]?.[p];
        if (piece !== undefined)
          onDelta({ type: 'tool-call-delta', index, id: c.id, argumentsDelta: piece } satisfies ModelDelta);
      });
    }
  }
}

function isStep(entry: ScriptStep | ScriptedTurn): entry is ScriptStep {
  return 'reply' in entry || 'expect' in entry || 'error' in entry || 'hang' in entry;
}

function pieces(text: string, size: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < text.length; i += size) out.push(text.slice(i, i + size));
  return out;
}

function waitForAbort(signal: AbortSignal | undefined): Promise<never> {
  return new Promise((_, reject) => {
    if (!signal) return;
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** The tool results of the last message of `request` (empty when it is not a tool message). */
export function lastToolResults(request: ModelRequest): ToolResult[] {
  const last = request.messages[request.messages.length - 1];
  return last?.role === 'tool' ? last.results : [];
}
