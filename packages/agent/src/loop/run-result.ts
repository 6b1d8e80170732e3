/**
 * The documented outcome of a run. A run never throws for something the model or a tool did:
 * it ends in one of these states, always with the transcript so far (openai-agents-js #573).
 */
import { TrellisError } from '@trellis/core';
import { type AgentLimit, AgentLimitExceededError } from '../errors.js';
import type { Message, StopReason, ToolCall, ToolResult, Usage } from '../messages.js';
import type { AgentRunRecord, PendingApproval } from '../store/run-record.js';

interface RunResultBase {
  runId: string;
  /** Every message of the run so far: user, assistant turns, tool results. */
  transcript: Message[];
  /** The text of the last assistant turn ('' if none). */
  text: string;
  usage: Usage;
  steps: number;
  toolCalls: number;
}

/** The model ended its turn: `text` is the answer. */
export interface CompletedRun extends RunResultBase {
  status: 'completed';
  stopReason: StopReason;
}
/** Paused: the listed tool calls wait for a human; decide, then `resume`. */
export interface AwaitingApprovalRun extends RunResultBase {
  status: 'awaiting_approval';
  approvals: PendingApproval[];
}
/** A limit (steps, tool calls, deadline, tokens) ended the run. */
export interface LimitExceededRun extends RunResultBase {
  status: 'limit_exceeded';
  error: AgentLimitExceededError;
}
/** The model could not be reached or is not configured, the caller cancelled, or state conflicted. */
export interface FailedRun extends RunResultBase {
  status: 'failed';
  error: TrellisError;
}

/** What `run` and `resume` resolve with. */
export type RunResult = CompletedRun | AwaitingApprovalRun | LimitExceededRun | FailedRun;

/** The result a record stands for (e.g. to answer about a run loaded from the store). */
export function resultFromRecord(record: AgentRunRecord): RunResult {
  const base: RunResultBase = {
    runId: record.id,
    transcript: record.messages,
    text: lastAssistantText(record.messages),
    usage: { ...record.usage },
    steps: record.steps.length,
    toolCalls: record.toolCallCount,
  };
  switch (record.status) {
    case 'completed':
      return { ...base, status: 'completed', stopReason: record.steps.at(-1)?.stopReason ?? 'end_turn' };
    case 'awaiting_approval':
      return { ...base, status: 'awaiting_approval', approvals: record.pending?.approvals ?? [] };
    case 'limit_exceeded': {
      const details = (record.error?.details ?? {}) as { limit?: AgentLimit; value?: number };
      return {
        ...base,
        status: 'limit_exceeded',
        error: new AgentLimitExceededError(details.limit ?? 'maxSteps', details.value ?? 0),
      };
    }
    default: {
      const e = record.error ?? {
        code: 'AGENT_RUN_INTERRUPTED',
        message: 'The run has not finished (or its process stopped)',
      };
      return {
        ...base,
        status: 'failed',
        error: new TrellisError(e.code, e.message, 500, { details: e.details }),
      };
    }
  }
}

/** The text of the last assistant message. */
export function lastAssistantText(messages: readonly Message[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const m = messages[i];
    if (m?.role === 'assistant') return m.content;
  }
  return '';
}

/** A JSON body for a result (errors as `{code, message, details}`; transcript optional). */
export function resultToJson(
  result: RunResult,
  options: { transcript?: boolean } = {},
): Record<string, unknown> {
  const { transcript, ...rest } = result;
  const body: Record<string, unknown> = { ...rest };
  if ('error' in result) body.error = result.error.toJSON().error;
  if (options.transcript) body.transcript = transcript;
  return body;
}

/** Tool results that close calls the run will never execute, keeping the transcript well-formed. */
export function notExecutedResults(calls: readonly ToolCall[], why: string): ToolResult[] {
  return calls.map((c) => ({
    toolCallId: c.id,
    toolName: c.name,
    content: JSON.stringify({ error: { code: 'TOOL_NOT_EXECUTED', message: why } }),
    isError: true,
    errorCode: 'TOOL_NOT_EXECUTED',
  }));
}
