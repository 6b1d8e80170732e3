/**
 * How tool outcomes are written for the model. Failures are results, not exceptions: the
 * model reads `{"error":{"code","message","details"}}` and can correct itself or explain.
 */
import { isTrellisError } from '@trellis/core';
import type { ToolCall, ToolResult } from '../messages.js';

/**
 * Error codes the loop itself writes into tool results. Errors a tool throws as a
 * `TrellisError` keep their own code (`FORBIDDEN`, `NOT_FOUND`, `VALIDATION_FAILED`…).
 */
export const ToolErrorCode = {
  /** The model named a tool that does not exist. */
  unknown: 'TOOL_UNKNOWN',
  /** The arguments were not JSON, or failed the tool's schema; `details.issues` names fields. */
  invalidArguments: 'TOOL_INVALID_ARGUMENTS',
  /** The user lacks a permission the tool requires (or the tool refused: same code). */
  forbidden: 'FORBIDDEN',
  /** The tool did not finish within its timeout. */
  timeout: 'TOOL_TIMEOUT',
  /** The tool's breaker is open or its concurrency is exhausted. */
  unavailable: 'TOOL_UNAVAILABLE',
  /** The tool threw an unexpected error (message hidden unless `exposeToolErrors`). */
  failed: 'TOOL_FAILED',
  /** A human rejected the call. */
  rejected: 'TOOL_REJECTED',
  /** The call needs approval, which this channel cannot ask for (MCP without elicitation). */
  approvalRequired: 'TOOL_APPROVAL_REQUIRED',
  /** The run ended (limit, cancel) before the call ran. */
  notExecuted: 'TOOL_NOT_EXECUTED',
  /** The process died while the call was running: it may or may not have taken effect. */
  outcomeUnknown: 'TOOL_OUTCOME_UNKNOWN',
} as const;

/** One of {@link ToolErrorCode}'s values. */
export type ToolErrorCode = (typeof ToolErrorCode)[keyof typeof ToolErrorCode];

/** An error result for `call`. */
export function errorResult(
  call: Pick<ToolCall, 'id' | 'name'>,
  code: string,
  message: string,
  details?: unknown,
): ToolResult {
  const error: Record<string, unknown> = { code, message };
  if (details !== undefined) error.details = details;
  return {
    toolCallId: call.id,
    toolName: call.name,
    content: JSON.stringify({ error }),
    isError: true,
    errorCode: code,
  };
}

/** A success result: strings as they are, anything else as JSON, cut at `maxChars`. */
export function successResult(
  call: Pick<ToolCall, 'id' | 'name'>,
  value: unknown,
  maxChars: number,
): ToolResult {
  let content: string;
  if (typeof value === 'string') content = value;
  else {
    try {
      content = JSON.stringify(value === undefined ? null : value);
    } catch (err) {
      return errorResult(
        call,
        ToolErrorCode.failed,
        `Tool "${call.name}" returned a value that is not JSON: ${(err as Error).message}`,
      );
    }
  }
  if (content.length > maxChars) {
    content = JSON.stringify({
      truncated: true,
      originalLength: content.length,
      text: content.slice(0, maxChars),
    });
  }
  return { toolCallId: call.id, toolName: call.name, content, isError: false };
}

/**
 * The result for an error thrown while running a tool. Trellis errors are written as they
 * are (their messages are meant for clients); anything else is hidden behind a generic
 * message unless `expose` is set, so stack traces and SQL never reach the model or the user.
 */
export function thrownResult(call: Pick<ToolCall, 'id' | 'name'>, err: unknown, expose: boolean): ToolResult {
  if (isTrellisError(err)) {
    switch (err.code) {
      case 'CIRCUIT_OPEN':
      case 'BULKHEAD_FULL':
        return errorResult(
          call,
          ToolErrorCode.unavailable,
          `Tool "${call.name}" is temporarily unavailable: ${err.message}`,
        );
      default:
        return errorResult(call, err.code, err.message, err.details);
    }
  }
  const detail = expose && err instanceof Error ? `: ${err.message}` : '';
  return errorResult(call, ToolErrorCode.failed, `Tool "${call.name}" failed${detail}`);
}
