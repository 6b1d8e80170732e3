/**
 * The one agent loop. `Agent.run`, `Agent.stream` and both `resume` variants all drive a run
 * through this class; streaming only changes who listens to the events (vercel/ai #4111).
 */
import type { Context, Tracer } from '@opentelemetry/api';
import { AbortedError, type Clock, isTrellisError, type TrellisError } from '@trellis/core';
import { Bulkhead, type Policy } from '@trellis/resilience';
import { type AgentLimit, AgentLimitExceededError, AgentRunFailedError } from '../errors.js';
import type { Principal } from '../identity.js';
import type { ModelResponse, ToolCall, ToolResult } from '../messages.js';
import type { ModelProvider } from '../providers/provider.js';
import type { AgentRunRecord, PendingApproval, RunStore, ToolCallRecord } from '../store/run-record.js';
import type { ToolExecutor } from '../tools/executor.js';
import { traceIdOf } from '../tracing.js';
import type { AgentEvent } from './events.js';
import type { AgentLimits } from './limits.js';
import { callModel } from './model-step.js';
import { lastAssistantText, notExecutedResults, type RunResult } from './run-result.js';
import { resumePendingStep, runToolCalls } from './tool-step.js';

/** What the driver needs from its agent. */
export interface DriverDeps {
  model: ModelProvider;
  modelPolicy: Policy | undefined;
  executor: ToolExecutor;
  store: RunStore;
  clock: Clock;
  tracer: Tracer;
  maxParallelToolCalls: number;
}

/** One invocation: start or resume a run, for a user, within limits, reporting events. */
export interface Invocation {
  record: AgentRunRecord;
  user: Principal;
  limits: AgentLimits;
  emit: (event: AgentEvent) => void;
  signal: AbortSignal | undefined;
  resumed: boolean;
  /** The trace context of the whole invocation (the `invoke_agent` span). */
  trace: Context;
}

/** Drives one invocation of a run to its next resting state. */
export class RunDriver {
  record: AgentRunRecord;
  /** Aborts on the deadline or the caller's signal: handed to the model and every tool. */
  readonly signal: AbortSignal;
  /** Bounds the run's parallel tool calls; queued calls wait (their timeout includes the wait). */
  readonly limiter: Bulkhead;
  // One controller for both causes (AbortSignal.any is slow on Node 20); the flag tells them apart.
  private readonly controller = new AbortController();
  private deadlinePassed = false;

  constructor(
    readonly deps: DriverDeps,
    readonly inv: Invocation,
  ) {
    this.record = inv.record;
    this.signal = this.controller.signal;
    this.limiter = new Bulkhead({
      maxConcurrent: deps.maxParallelToolCalls,
      maxQueue: Number.POSITIVE_INFINITY,
    });
  }

  get user(): Principal {
    return this.inv.user;
  }

  emit(event: AgentEvent): void {
    this.inv.emit(event);
  }

  /** Runs until the model ends its turn, a limit or failure ends the run, or approval is needed. */
  async drive(): Promise<RunResult> {
    const { clock } = this.deps;
    const ms = this.inv.limits.deadlineMs;
    const timer = clock.setTimeout(() => {
      this.deadlinePassed = true;
      this.controller.abort(new AgentLimitExceededError('deadline', ms));
    }, ms);
    const caller = this.inv.signal;
    const onCallerAbort = () => this.controller.abort(caller?.reason);
    if (caller?.aborted) onCallerAbort();
    else caller?.addEventListener('abort', onCallerAbort, { once: true });
    try {
      this.record.traceId = traceIdOf(this.inv.trace) ?? this.record.traceId;
      if (this.inv.resumed) {
        const paused = await resumePendingStep(this);
        if (paused) return paused;
      }
      return await this.loop();
    } catch (err) {
      return await this.fail(err);
    } finally {
      clock.clearTimeout(timer);
      caller?.removeEventListener('abort', onCallerAbort);
    }
  }

  private async loop(): Promise<RunResult> {
    const { limits } = this.inv;
    for (;;) {
      if (this.signal.aborted) return this.stopped([]);
      if (this.record.steps.length >= limits.maxSteps) return this.limit('maxSteps', limits.maxSteps, []);
      if (totalTokens(this.record) >= limits.tokenBudget)
        return this.limit('tokenBudget', limits.tokenBudget, []);
      const response = await callModel(this);
      if ('status' in response) return response;
      const calls = response.toolCalls;
      if (totalTokens(this.record) > limits.tokenBudget)
        return this.limit('tokenBudget', limits.tokenBudget, calls);
      if (calls.length === 0) return this.finish({ status: 'completed', stopReason: response.stopReason });
      if (this.record.steps.length >= limits.maxSteps) return this.limit('maxSteps', limits.maxSteps, calls);
      if (this.record.toolCallCount + calls.length > limits.maxToolCalls) {
        return this.limit('maxToolCalls', limits.maxToolCalls, calls);
      }
      this.record.toolCallCount += calls.length;
      // Write ahead: the calls are on record before any runs, so a crash mid-tool leaves a
      // trace of what may have happened (see failInterruptedRuns).
      await this.save();
      const outcome = await runToolCalls(this, calls);
      const paused = await this.afterTools(calls, outcome.results, outcome.approvals, outcome.records);
      if (paused) return paused;
    }
  }

  /**
   * Files a step's tool results: pause for approvals, stop on deadline or cancel, or append
   * them and checkpoint. Returns a result when the run stops here.
   */
  async afterTools(
    calls: readonly ToolCall[],
    results: Map<string, ToolResult>,
    approvals: PendingApproval[],
    records: ToolCallRecord[],
  ): Promise<RunResult | undefined> {
    this.record.steps.at(-1)?.toolCalls.push(...records);
    if (approvals.length > 0 && !this.signal.aborted) {
      this.record.pending = { results: calls.flatMap((c) => results.get(c.id) ?? []), approvals };
      this.emit({ type: 'approval-required', runId: this.record.id, approvals });
      return this.finish({ status: 'awaiting_approval', approvals });
    }
    const ordered = calls.map(
      (c) => results.get(c.id) ?? notExecutedResults([c], 'The run was stopped before this call ran')[0]!,
    );
    this.record.pending = undefined;
    this.record.messages.push({ role: 'tool', results: ordered });
    if (this.signal.aborted) return this.stopped([]);
    await this.save();
    return undefined;
  }

  /** Ends the run because a limit was reached, closing `dangling` calls as not executed. */
  async limit(limit: AgentLimit, value: number, dangling: readonly ToolCall[]): Promise<RunResult> {
    this.closeDangling(dangling, `The run reached its ${limit} limit before this call ran`);
    return this.finish({ status: 'limit_exceeded', error: new AgentLimitExceededError(limit, value) });
  }

  /** Ends the run after the deadline passed or the caller cancelled. */
  async stopped(dangling: readonly ToolCall[]): Promise<RunResult> {
    if (this.deadlinePassed) return this.limit('deadline', this.inv.limits.deadlineMs, dangling);
    this.closeDangling(dangling, 'The run was cancelled before this call ran');
    const reason: unknown = this.inv.signal?.reason;
    const error = isTrellisError(reason)
      ? reason
      : new AbortedError('The run was cancelled by the caller', { cause: reason });
    return this.finish({ status: 'failed', error });
  }

  /** Ends the run with a failure (provider error, no model, store conflict or outage…). */
  async fail(err: unknown): Promise<RunResult> {
    const error: TrellisError = isTrellisError(err)
      ? err
      : new AgentRunFailedError(`Run failed: ${String((err as Error)?.message ?? err)}`, { cause: err });
    return this.finish({ status: 'failed', error }).catch(() => this.result({ status: 'failed', error }));
  }

  private closeDangling(calls: readonly ToolCall[], why: string): void {
    if (calls.length > 0)
      this.record.messages.push({ role: 'tool', results: notExecutedResults(calls, why) });
  }

  private async finish(outcome: Outcome): Promise<RunResult> {
    this.record.status = outcome.status;
    if ('error' in outcome) this.record.error = outcome.error.toJSON().error;
    else delete this.record.error;
    if (outcome.status !== 'awaiting_approval') this.record.pending = undefined;
    await this.save();
    return this.result(outcome);
  }

  private result(outcome: Outcome): RunResult {
    const r = this.record;
    const base = {
      runId: r.id,
      transcript: r.messages,
      text: lastAssistantText(r.messages),
      usage: { ...r.usage },
      steps: r.steps.length,
      toolCalls: r.toolCallCount,
    };
    return { ...base, ...outcome } as RunResult;
  }

  /** Persists the record (optimistic version check). */
  async save(): Promise<void> {
    this.record.updatedAt = this.deps.clock.now();
    this.record = await this.deps.store.save(this.record);
  }
}

type Outcome =
  | { status: 'completed'; stopReason: ModelResponse['stopReason'] }
  | { status: 'awaiting_approval'; approvals: PendingApproval[] }
  | { status: 'limit_exceeded'; error: AgentLimitExceededError }
  | { status: 'failed'; error: TrellisError };

function totalTokens(record: AgentRunRecord): number {
  return record.usage.inputTokens + record.usage.outputTokens;
}
