/** The configuration and inputs of an `Agent`. */
import type { Tracer } from '@opentelemetry/api';
import type { Clock } from '@trellis/core';
import type { Policy } from '@trellis/resilience';
import type { Principal, UserIdentity } from '../identity.js';
import type { ModelProvider } from '../providers/provider.js';
import type { RunStore } from '../store/run-record.js';
import type { ToolRegistry } from '../tools/registry.js';
import type { ToolInput } from '../tools/tool.js';
import type { ApprovalDecisionInput, CanApprove } from './approvals.js';
import type { AgentEvent } from './events.js';
import type { AgentLimits } from './limits.js';
import type { RunResult } from './run-result.js';

/** Configuration of an {@link Agent}. */
export interface AgentOptions {
  model: ModelProvider;
  tools: ToolRegistry | readonly ToolInput[];
  /** Where runs are kept (default in memory; use `SqlRunStore` to survive restarts). */
  store?: RunStore;
  /** System prompt, fixed or per user. */
  system?: string | ((user: Principal) => string);
  limits?: Partial<AgentLimits>;
  /** Tool calls of one run executing at once (default 4). */
  maxParallelToolCalls?: number;
  /** Timeout of tools that set none (default 30 000 ms). */
  toolTimeoutMs?: number;
  /** Tool results longer than this are cut (default 32 000 characters). */
  maxResultChars?: number;
  /** Show unexpected tool error messages to the model (default false: generic message). */
  exposeToolErrors?: boolean;
  /** A policy around every model call (e.g. a `CircuitBreaker` for the provider). */
  modelPolicy?: Policy;
  /** Who may decide approvals (default: the run's user, or `agent:approve:any`). */
  canApprove?: CanApprove;
  clock?: Clock;
  tracer?: Tracer;
  /** Name for spans (default `assistant`). */
  name?: string;
}

/** Starting a run. */
export interface RunInput {
  /** The authenticated end user; every tool call runs with exactly this identity. */
  user: UserIdentity | Principal;
  /** The user's message. */
  input: string;
  /** Continue the conversation of this finished run of the same user. */
  continueFrom?: string;
  /** Choose the run id (e.g. an idempotency key); default a new UUIDv7. */
  runId?: string;
  /** Tighter or looser limits for this run. */
  limits?: Partial<AgentLimits>;
  /** Cancels the run (e.g. the HTTP client went away). */
  signal?: AbortSignal;
}

/** Resuming a run paused for approval. */
export interface ResumeInput {
  runId: string;
  /** The run's own user (tools run with this identity's *current* permissions). */
  user: UserIdentity | Principal;
  /** Decisions to record first (optional if already decided with `decide`). */
  decisions?: ApprovalDecisionInput[];
  limits?: Partial<AgentLimits>;
  signal?: AbortSignal;
}

/** A run in progress, streamed: iterate the events; `result` settles when the run stops. */
export interface AgentRunStream extends AsyncIterable<AgentEvent> {
  readonly runId: string;
  readonly result: Promise<RunResult>;
}
