/**
 * What a run leaves behind: its transcript, step log, usage, pending approvals and outcome.
 * One record per run, persisted after every step, so a paused run survives a restart and
 * every run can be listed and inspected afterwards.
 */
import type { UserIdentity } from '../identity.js';
import type { Message, StopReason, ToolResult, Usage } from '../messages.js';

/** Where a run stands. Only `awaiting_approval` runs can be resumed. */
export type RunStatus = 'running' | 'awaiting_approval' | 'completed' | 'limit_exceeded' | 'failed';

/** A human's answer to a pending approval. */
export interface ApprovalDecision {
  approved: boolean;
  /** Why (shown to the model when rejected). */
  reason?: string;
  /** Id of the user who decided. */
  decidedBy: string;
  decidedAt: number;
}

/** A tool call waiting for a human to approve or reject it. */
export interface PendingApproval {
  /** Approval id (stable; use it to decide). */
  id: string;
  toolCallId: string;
  toolName: string;
  /** The validated arguments the tool will run with once approved. */
  arguments: unknown;
  /** A one-line human description of the action (the tool's `describeCall`). */
  description: string;
  requestedAt: number;
  decision?: ApprovalDecision;
}

/** A step paused for approvals: results of the calls that already ran, and the ones waiting. */
export interface PendingStep {
  results: ToolResult[];
  approvals: PendingApproval[];
}

/** One tool call as the step log records it. */
export interface ToolCallRecord {
  toolCallId: string;
  toolName: string;
  startedAt: number;
  finishedAt: number;
  isError: boolean;
  errorCode?: string;
}

/** One model call and the tool calls it led to. */
export interface StepRecord {
  step: number;
  provider: string;
  model: string;
  startedAt: number;
  finishedAt: number;
  stopReason: StopReason;
  usage: Usage;
  toolCalls: ToolCallRecord[];
}

/** The persisted state of a run (what {@link RunStore} saves). */
export interface AgentRunRecord {
  id: string;
  /** Optimistic-concurrency version; bumped by every save. 0 = never saved. */
  version: number;
  userId: string;
  /** The identity the run was started with (never its credentials). */
  user: UserIdentity;
  status: RunStatus;
  /** The first user message, shortened: a label for lists. */
  title: string;
  createdAt: number;
  updatedAt: number;
  system?: string;
  /** The run whose conversation this one continues. */
  parentRunId?: string;
  messages: Message[];
  steps: StepRecord[];
  usage: Usage;
  toolCallCount: number;
  pending?: PendingStep;
  /** The failure or exceeded limit that ended the run. */
  error?: { code: string; message: string; details?: unknown };
  /** Trace id of the invocation that last advanced the run. */
  traceId?: string;
}

/** A row of a run list. */
export interface RunSummary {
  id: string;
  userId: string;
  status: RunStatus;
  title: string;
  createdAt: number;
  updatedAt: number;
  steps: number;
  toolCalls: number;
  usage: Usage;
  pendingApprovals: number;
}

/** Filters for {@link RunStore.list}. */
export interface RunQuery {
  userId?: string;
  status?: RunStatus;
  /** At most this many (default 50, max 500). */
  limit?: number;
  /** Only runs with an id lower than this (run ids are time-ordered UUIDv7): the next page. */
  before?: string;
}

/**
 * Persistence of runs. Implementations: {@link InMemoryRunStore}, `SqlRunStore` (SQLite and
 * PostgreSQL through the `SqlDatabase` contract). All pass the same conformance suite.
 */
export interface RunStore {
  /**
   * Saves `record`: inserts it when `record.version` is 0, else updates the stored version
   * `record.version`. Returns the record with its new version.
   *
   * Throws `ConflictError` when the stored version differs (another process advanced the
   * run) or when inserting an id that exists.
   */
  save(record: AgentRunRecord): Promise<AgentRunRecord>;
  /** The run with this id, or undefined. */
  get(id: string): Promise<AgentRunRecord | undefined>;
  /** Runs, newest first. */
  list(query?: RunQuery): Promise<RunSummary[]>;
}

/** Abbreviates a user message into a list label. */
export function runTitle(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > 80 ? `${flat.slice(0, 79)}…` : flat;
}

/** The list row of a record. */
export function summarize(record: AgentRunRecord): RunSummary {
  return {
    id: record.id,
    userId: record.userId,
    status: record.status,
    title: record.title,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    steps: record.steps.length,
    toolCalls: record.toolCallCount,
    usage: { ...record.usage },
    pendingApprovals: record.pending?.approvals.filter((a) => !a.decision).length ?? 0,
  };
}

/** Clamps a requested page size. */
export function pageSize(limit: number | undefined): number {
  return Math.min(Math.max(Math.trunc(limit ?? 50), 1), 500);
}
