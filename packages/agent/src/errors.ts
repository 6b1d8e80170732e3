/**
 * The typed failures of @trellis/agent. Each extends `TrellisError` with a stable `code`, the
 * HTTP `status` a service edge answers with, and an `isXError` guard that matches the code (so
 * it survives duplicate installs).
 *
 * Failures of a single tool call are deliberately *not* here: they never throw out of the
 * loop, they become error results the model can read and correct (see `ToolErrorCode`).
 */
import { errorGuard, TrellisError, type TrellisErrorOptions } from '@trellis/core';

/** Which run limit was exceeded. */
export type AgentLimit = 'maxSteps' | 'maxToolCalls' | 'deadline' | 'tokenBudget';

/**
 * A run hit one of its limits (max steps, max tool calls, deadline, token budget). HTTP 422.
 * It is carried by a `limit_exceeded` run result together with the transcript so far; the
 * loop never throws it.
 */
export class AgentLimitExceededError extends TrellisError {
  /** The limit that ended the run. */
  readonly limit: AgentLimit;
  /** The configured value of that limit. */
  readonly value: number;

  constructor(limit: AgentLimit, value: number, options: TrellisErrorOptions = {}) {
    super('AGENT_LIMIT_EXCEEDED', limitMessage(limit, value), 422, {
      ...options,
      details: options.details ?? { limit, value },
    });
    this.limit = limit;
    this.value = value;
  }
}
/** Guard for {@link AgentLimitExceededError} (code `AGENT_LIMIT_EXCEEDED`). */
export const isAgentLimitExceededError = errorGuard<AgentLimitExceededError>('AGENT_LIMIT_EXCEEDED');

function limitMessage(limit: AgentLimit, value: number): string {
  switch (limit) {
    case 'maxSteps':
      return `The run reached its limit of ${value} model steps without finishing`;
    case 'maxToolCalls':
      return `The run would exceed its limit of ${value} tool calls`;
    case 'deadline':
      return `The run did not finish within its deadline of ${value} ms`;
    case 'tokenBudget':
      return `The run used up its budget of ${value} tokens`;
  }
}

/**
 * No model provider is configured (no API key or base URL in the environment). HTTP 503.
 * The assistant answers with this instead of pretending to be a model.
 */
export class NoModelConfiguredError extends TrellisError {
  constructor(message = NO_MODEL_MESSAGE, options: TrellisErrorOptions = {}) {
    super('AGENT_NO_MODEL_CONFIGURED', message, 503, options);
  }
}
/** Guard for {@link NoModelConfiguredError} (code `AGENT_NO_MODEL_CONFIGURED`). */
export const isNoModelConfiguredError = errorGuard<NoModelConfiguredError>('AGENT_NO_MODEL_CONFIGURED');

/** The default, user-facing explanation of {@link NoModelConfiguredError}. */
export const NO_MODEL_MESSAGE =
  'No AI model is configured, so the assistant cannot answer. Set ANTHROPIC_API_KEY, ' +
  'OPENAI_API_KEY, or TRELLIS_AGENT_BASE_URL (an OpenAI-compatible server such as Ollama) ' +
  'and restart the service.';

/**
 * The model provider failed (HTTP error, network error, malformed response) after the SDK's
 * own retries. HTTP 502; `details` carries the provider and its HTTP status when known.
 */
export class ModelProviderError extends TrellisError {
  /** Which provider failed (`anthropic`, `openai`, `openai-compatible`…). */
  readonly provider: string;
  /** The provider's HTTP status, when the failure was an HTTP response. */
  readonly providerStatus: number | undefined;

  constructor(provider: string, message: string, providerStatus?: number, options: TrellisErrorOptions = {}) {
    super('AGENT_MODEL_ERROR', message, 502, {
      ...options,
      details: options.details ?? { provider, providerStatus },
    });
    this.provider = provider;
    this.providerStatus = providerStatus;
  }
}
/** Guard for {@link ModelProviderError} (code `AGENT_MODEL_ERROR`). */
export const isModelProviderError = errorGuard<ModelProviderError>('AGENT_MODEL_ERROR');

/**
 * A tool definition is unusable: bad name, duplicate name, arguments that are not an object
 * schema, or a schema that cannot be turned into JSON Schema. HTTP 500 (a programming error,
 * raised at registration, never during a run).
 */
export class ToolDefinitionError extends TrellisError {
  constructor(tool: string, message: string, options: TrellisErrorOptions = {}) {
    super('AGENT_TOOL_DEFINITION', `Tool "${tool}": ${message}`, 500, {
      ...options,
      details: options.details ?? { tool },
    });
  }
}
/** Guard for {@link ToolDefinitionError} (code `AGENT_TOOL_DEFINITION`). */
export const isToolDefinitionError = errorGuard<ToolDefinitionError>('AGENT_TOOL_DEFINITION');

/**
 * A scripted test model received a request it did not expect, or more requests than it has
 * responses. HTTP 500. Tests read `message` to see which step and what differed.
 */
export class ScriptMismatchError extends TrellisError {
  constructor(message: string, options: TrellisErrorOptions = {}) {
    super('AGENT_SCRIPT_MISMATCH', message, 500, options);
  }
}
/** Guard for {@link ScriptMismatchError} (code `AGENT_SCRIPT_MISMATCH`). */
export const isScriptMismatchError = errorGuard<ScriptMismatchError>('AGENT_SCRIPT_MISMATCH');

/**
 * A replayed cassette received a request that differs from the recorded one (or ran out of
 * recorded interactions). HTTP 500; `details` names the interaction and the first differing
 * path, so a changed prompt or tool schema is easy to find.
 */
export class CassetteMismatchError extends TrellisError {
  constructor(message: string, options: TrellisErrorOptions = {}) {
    super('AGENT_CASSETTE_MISMATCH', message, 500, options);
  }
}
/** Guard for {@link CassetteMismatchError} (code `AGENT_CASSETTE_MISMATCH`). */
export const isCassetteMismatchError = errorGuard<CassetteMismatchError>('AGENT_CASSETTE_MISMATCH');

/** An HTTP request body is larger than the route accepts. HTTP 413. */
export class PayloadTooLargeError extends TrellisError {
  /** The limit, in bytes. */
  readonly limit: number;

  constructor(limit: number, options: TrellisErrorOptions = {}) {
    super('PAYLOAD_TOO_LARGE', `Request body exceeds ${limit} bytes`, 413, {
      ...options,
      details: options.details ?? { limit },
    });
    this.limit = limit;
  }
}
/** Guard for {@link PayloadTooLargeError} (code `PAYLOAD_TOO_LARGE`). */
export const isPayloadTooLargeError = errorGuard<PayloadTooLargeError>('PAYLOAD_TOO_LARGE');

/**
 * A run failed for a reason outside the model and the tools (e.g. its store became
 * unreachable mid-run). HTTP 500; the cause is kept.
 */
export class AgentRunFailedError extends TrellisError {
  constructor(message: string, options: TrellisErrorOptions = {}) {
    super('AGENT_RUN_FAILED', message, 500, options);
  }
}
/** Guard for {@link AgentRunFailedError} (code `AGENT_RUN_FAILED`). */
export const isAgentRunFailedError = errorGuard<AgentRunFailedError>('AGENT_RUN_FAILED');
