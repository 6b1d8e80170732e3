/**
 * What a streamed run reports, in order: the same loop produces these whether the caller
 * streams or not (non-streaming callers just do not look), so both paths behave alike.
 */
import type { StopReason, ToolCall, ToolResult, Usage } from '../messages.js';
import type { PendingApproval } from '../store/run-record.js';
import type { RunResult } from './run-result.js';

/** One event of a run. Every event names its run. */
export type AgentEvent =
  | { type: 'run-started'; runId: string; resumed: boolean }
  | { type: 'step-started'; runId: string; step: number }
  | { type: 'text-delta'; runId: string; step: number; text: string }
  | {
      type: 'tool-call-delta';
      runId: string;
      step: number;
      index: number;
      toolCallId: string;
      toolName: string;
      argumentsDelta: string;
    }
  | { type: 'tool-call'; runId: string; step: number; toolCall: ToolCall }
  | { type: 'tool-result'; runId: string; step: number; result: ToolResult }
  | { type: 'approval-required'; runId: string; approvals: PendingApproval[] }
  | { type: 'step-finished'; runId: string; step: number; stopReason: StopReason; usage: Usage }
  | { type: 'run-finished'; runId: string; result: RunResult };

/** The type names of {@link AgentEvent}. */
export type AgentEventType = AgentEvent['type'];
