/**
 * The provider-neutral conversation model. Every provider adapter maps these to and from its
 * own wire format, so the loop, the stores and the cassettes never see a vendor type.
 */

/** A JSON Schema object describing a tool's arguments (always `type: "object"`). */
export interface JsonSchemaObject {
  type: 'object';
  properties?: Record<string, unknown>;
  required?: string[];
  [keyword: string]: unknown;
}

/** One tool call requested by the model. */
export interface ToolCall {
  /** The provider's id for the call; the tool result must quote it. */
  id: string;
  /** The tool the model asked for (not necessarily one that exists). */
  name: string;
  /** The parsed arguments, exactly as the model produced them (not yet validated). */
  arguments: unknown;
  /**
   * The raw argument text when it was not valid JSON (then `arguments` is `undefined`); the
   * loop answers such a call with a `TOOL_INVALID_ARGUMENTS` result.
   */
  invalidJson?: string;
}

/** The outcome of one tool call, as the model will read it. */
export interface ToolResult {
  toolCallId: string;
  toolName: string;
  /** What the model sees: the tool's output as JSON text, or an error object as JSON text. */
  content: string;
  isError: boolean;
  /** Stable error code when `isError` (see `ToolErrorCode`). */
  errorCode?: string;
}

/** A message from the end user. */
export interface UserMessage {
  role: 'user';
  content: string;
}

/** A model turn: its text and the tools it asked to call. */
export interface AssistantMessage {
  role: 'assistant';
  content: string;
  toolCalls: ToolCall[];
}

/** The results of every tool call of the preceding assistant turn. */
export interface ToolResultsMessage {
  role: 'tool';
  results: ToolResult[];
}

/** One entry of a transcript. */
export type Message = UserMessage | AssistantMessage | ToolResultsMessage;

/** A tool as the model is told about it. */
export interface ToolSpec {
  name: string;
  description: string;
  inputSchema: JsonSchemaObject;
}

/** Why the model stopped generating. */
export type StopReason = 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence' | 'refusal' | 'other';

/** Tokens used by one model call, or summed over a run. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
}

/** What the loop asks a model for. */
export interface ModelRequest {
  system?: string;
  messages: Message[];
  tools: ToolSpec[];
  /** Upper bound on generated tokens for this call. */
  maxOutputTokens?: number;
}

/** A complete model answer (streamed or not, providers return the same shape). */
export interface ModelResponse {
  content: string;
  toolCalls: ToolCall[];
  stopReason: StopReason;
  usage: Usage;
  /** The model that actually answered, when the provider says. */
  model?: string;
}

/**
 * An incremental piece of a streamed answer. Tool-call deltas carry the call's `index` in
 * the response, so the arguments of parallel calls never get mixed up.
 */
export type ModelDelta =
  | { type: 'text'; text: string }
  | { type: 'tool-call-start'; index: number; id: string; name: string }
  | { type: 'tool-call-delta'; index: number; id: string; argumentsDelta: string };

/** Sums two usages. */
export function addUsage(a: Usage, b: Usage): Usage {
  return { inputTokens: a.inputTokens + b.inputTokens, outputTokens: a.outputTokens + b.outputTokens };
}

/** Zero tokens. */
export function emptyUsage(): Usage {
  return { inputTokens: 0, outputTokens: 0 };
}

/**
 * Parses tool-call argument text as a provider delivers it. Empty text means "no arguments"
 * (`{}`); text that is not JSON is kept raw so the model can be told what was wrong.
 */
export function parseToolArguments(text: string): Pick<ToolCall, 'arguments' | 'invalidJson'> {
  if (text.trim() === '') return { arguments: {} };
  try {
    return { arguments: JSON.parse(text) as unknown };
  } catch {
    return { arguments: undefined, invalidJson: text };
  }
}
