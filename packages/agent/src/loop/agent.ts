import type { Tracer } from '@opentelemetry/api';
import {
  type Clock,
  ConflictError,
  NotFoundError,
  systemClock,
  uuidv7,
  ValidationError,
} from '@trellis/core';
import { z } from 'zod';
import { type Principal, toPrincipal, type UserIdentity } from '../identity.js';
import { emptyUsage } from '../messages.js';
import type { ModelProvider } from '../providers/provider.js';
import { InMemoryRunStore } from '../store/memory-run-store.js';
import {
  type AgentRunRecord,
  type RunQuery,
  type RunStore,
  type RunSummary,
  runTitle,
} from '../store/run-record.js';
import { ToolExecutor } from '../tools/executor.js';
import { ToolRegistry } from '../tools/registry.js';
import { activeContext, defaultTracer, endSpan, SpanKind, startChildSpan } from '../tracing.js';
import type { AgentOptions, AgentRunStream, ResumeInput, RunInput } from './agent-types.js';
import {
  AGENT_PERMISSIONS,
  type ApprovalDecisionInput,
  applyDecisions,
  ownerOrApprover,
} from './approvals.js';
import { streamRun } from './event-channel.js';
import type { AgentEvent } from './events.js';
import { type AgentLimits, resolveLimits } from './limits.js';
import { failInterruptedRuns } from './recovery.js';
import { type DriverDeps, RunDriver } from './run-driver.js';
import type { RunResult } from './run-result.js';

const runInputSchema = z.object({
  input: z.string().min(1).max(100_000),
  runId: z.string().min(1).max(128).optional(),
  continueFrom: z.string().min(1).optional(),
});

/**
 * The production agent: a bounded tool-use loop over any {@link ModelProvider}, with
 * validation, authorization, approvals, persistence, streaming and tracing.
 *
 * `run`/`resume` throw only for caller errors (`ValidationError` for bad input, `NotFoundError`
 * for an unknown or foreign run, `ConflictError` for a run in the wrong state); everything the
 * model or a tool does ends in a documented {@link RunResult}.
 *
 * @example
 * ```ts
 * const agent = new Agent({ model: modelFromEnv(), tools: [searchOrders, cancelOrder], store });
 * const result = await agent.run({ user: { id: 'u1', permissions: ['orders:read'] }, input: 'Where is my order?' });
 * if (result.status === 'awaiting_approval') { … agent.resume({ runId, user, decisions }) }
 * ```
 */
export class Agent {
  readonly tools: ToolRegistry;
  readonly store: RunStore;
  readonly model: ModelProvider;
  private readonly deps: DriverDeps;
  private readonly options: AgentOptions;
  private readonly clock: Clock;
  private readonly tracer: Tracer;

  constructor(options: AgentOptions) {
    this.options = options;
    this.model = options.model;
    this.tools = options.tools instanceof ToolRegistry ? options.tools : new ToolRegistry(options.tools);
    this.store = options.store ?? new InMemoryRunStore();
    this.clock = options.clock ?? systemClock;
    this.tracer = options.tracer ?? defaultTracer();
    resolveLimits(options.limits);
    const maxParallel = options.maxParallelToolCalls ?? 4;
    if (!Number.isInteger(maxParallel) || maxParallel < 1) {
      throw new ValidationError('Invalid option "maxParallelToolCalls": expected an integer >= 1', [
        { path: 'maxParallelToolCalls', message: 'expected an integer >= 1' },
      ]);
    }
    const executor = new ToolExecutor({
      registry: this.tools,
      clock: this.clock,
      tracer: this.tracer,
      ...(options.toolTimeoutMs ? { defaultTimeoutMs: options.toolTimeoutMs } : {}),
      ...(options.maxResultChars ? { maxResultChars: options.maxResultChars } : {}),
      exposeToolErrors: options.exposeToolErrors ?? false,
    });
    this.deps = {
      model: options.model,
      modelPolicy: options.modelPolicy,
      executor,
      store: this.store,
      clock: this.clock,
      tracer: this.tracer,
      maxParallelToolCalls: maxParallel,
    };
  }

  /** Runs to the next resting state: completed, awaiting approval, limit exceeded or failed. */
  run(input: RunInput): Promise<RunResult> {
    return this.start(input, input.runId ?? uuidv7(this.clock.now()), () => {});
  }

  /** Like {@link run}, reporting events as they happen. Leaving the `for await` early cancels the run. */
  stream(input: RunInput): AgentRunStream {
    const runId = input.runId ?? uuidv7(this.clock.now());
    return streamRun(runId, input.signal, (signal, emit) => this.start({ ...input, signal }, runId, emit));
  }

  /** Resumes a run paused for approval (recording `decisions` first, if given). */
  resume(input: ResumeInput): Promise<RunResult> {
    return this.continueRun(input, () => {});
  }

  /** Like {@link resume}, reporting events as they happen. */
  resumeStream(input: ResumeInput): AgentRunStream {
    return streamRun(input.runId, input.signal, (signal, emit) =>
      this.continueRun({ ...input, signal }, emit),
    );
  }

  /**
   * Records approval decisions without resuming (e.g. a staff member approves; the user's
   * session resumes later). Returns the updated run. Throws like `applyDecisions`, and
   * `NotFoundError` when the run does not exist or `user` may not see it.
   */
  async decide(input: {
    runId: string;
    user: UserIdentity | Principal;
    decisions: ApprovalDecisionInput[];
  }): Promise<AgentRunRecord> {
    const user = toPrincipal(input.user);
    const record = await this.store.get(input.runId);
    const canDecideOthers = user.can(AGENT_PERMISSIONS.approveAny);
    if (!record || (record.userId !== user.id && !canDecideOthers))
      throw new NotFoundError(`No run ${input.runId}`);
    applyDecisions(record, user, input.decisions, this.options.canApprove ?? ownerOrApprover, this.clock);
    record.updatedAt = this.clock.now();
    return this.store.save(record);
  }

  /**
   * Closes runs left `running` by a process that died mid-step (see `failInterruptedRuns`):
   * call it at start-up. `olderThanMs` (default: the deadline plus a minute, so a run still
   * alive elsewhere is never touched) is measured from the run's last checkpoint; pass a larger
   * one if some runs get a longer per-run deadline.
   */
  failInterrupted(options: { olderThanMs?: number } = {}): Promise<string[]> {
    const olderThanMs = options.olderThanMs ?? resolveLimits(this.options.limits).deadlineMs + 60_000;
    return failInterruptedRuns(this.store, this.clock, olderThanMs);
  }

  /** A run with its transcript. Throws `NotFoundError` unless it is `user`'s (or `user` may read any). */
  async getRun(runId: string, user: UserIdentity | Principal): Promise<AgentRunRecord> {
    const principal = toPrincipal(user);
    const record = await this.store.get(runId);
    if (!record || (record.userId !== principal.id && !principal.can(AGENT_PERMISSIONS.readAnyRun))) {
      throw new NotFoundError(`No run ${runId}`);
    }
    return record;
  }

  /** `user`'s runs, newest first (any user's, with `agent:runs:read:any` and `query.userId`). */
  listRuns(user: UserIdentity | Principal, query: RunQuery = {}): Promise<RunSummary[]> {
    const principal = toPrincipal(user);
    const mayReadAny = principal.can(AGENT_PERMISSIONS.readAnyRun);
    return this.store.list({ ...query, userId: mayReadAny ? query.userId : principal.id });
  }

  private async start(input: RunInput, runId: string, emit: (e: AgentEvent) => void): Promise<RunResult> {
    const user = toPrincipal(input.user);
    const parsed = runInputSchema.safeParse({ input: input.input, runId, continueFrom: input.continueFrom });
    if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'run input');
    const limits = resolveLimits(this.options.limits, input.limits);
    const messages: AgentRunRecord['messages'] = [];
    if (input.continueFrom) {
      const previous = await this.getRun(input.continueFrom, user);
      if (previous.userId !== user.id) throw new NotFoundError(`No run ${input.continueFrom}`);
      if (previous.status === 'running' || previous.status === 'awaiting_approval') {
        throw new ConflictError(`Run ${previous.id} is ${previous.status}; finish it before continuing`);
      }
      messages.push(...previous.messages);
    }
    messages.push({ role: 'user', content: input.input });
    const now = this.clock.now();
    const system =
      typeof this.options.system === 'function' ? this.options.system(user) : this.options.system;
    const record = await this.store.save({
      id: runId,
      version: 0,
      userId: user.id,
      user: user.toJSON(),
      status: 'running',
      title: runTitle(input.input),
      createdAt: now,
      updatedAt: now,
      ...(system ? { system } : {}),
      ...(input.continueFrom ? { parentRunId: input.continueFrom } : {}),
      messages,
      steps: [],
      usage: emptyUsage(),
      toolCallCount: 0,
    });
    return this.invoke(record, user, limits, emit, input.signal, false);
  }

  private async continueRun(input: ResumeInput, emit: (e: AgentEvent) => void): Promise<RunResult> {
    const user = toPrincipal(input.user);
    const limits = resolveLimits(this.options.limits, input.limits);
    let record = await this.store.get(input.runId);
    if (!record || record.userId !== user.id) throw new NotFoundError(`No run ${input.runId}`);
    if (input.decisions?.length) {
      applyDecisions(record, user, input.decisions, this.options.canApprove ?? ownerOrApprover, this.clock);
    }
    if (record.status !== 'awaiting_approval') {
      throw new ConflictError(`Run ${record.id} is ${record.status}, not awaiting approval`);
    }
    const undecided = record.pending?.approvals.filter((a) => !a.decision) ?? [];
    if (undecided.length > 0) {
      throw new ConflictError(
        `Run ${record.id} still has undecided approvals: ${undecided.map((a) => a.id).join(', ')}`,
      );
    }
    record.status = 'running';
    record.updatedAt = this.clock.now();
    record = await this.store.save(record); // the version check makes exactly one resumer win
    return this.invoke(record, user, limits, emit, input.signal, true);
  }

  private async invoke(
    record: AgentRunRecord,
    user: Principal,
    limits: AgentLimits,
    emit: (e: AgentEvent) => void,
    signal: AbortSignal | undefined,
    resumed: boolean,
  ): Promise<RunResult> {
    const name = this.options.name ?? 'assistant';
    const { span, ctx } = startChildSpan(
      this.tracer,
      `invoke_agent ${name}`,
      {
        'gen_ai.operation.name': 'invoke_agent',
        'gen_ai.agent.name': name,
        'trellis.agent.run_id': record.id,
        'trellis.agent.resumed': resumed,
        'enduser.id': user.id,
      },
      activeContext(),
      SpanKind.INTERNAL,
    );
    emit({ type: 'run-started', runId: record.id, resumed });
    const driver = new RunDriver(this.deps, { record, user, limits, emit, signal, resumed, trace: ctx });
    const result = await driver.drive();
    span.setAttributes({
      'trellis.agent.status': result.status,
      'trellis.agent.steps': result.steps,
      'gen_ai.usage.input_tokens': result.usage.inputTokens,
      'gen_ai.usage.output_tokens': result.usage.outputTokens,
    });
    endSpan(span, 'error' in result ? { code: result.error.code, message: result.error.message } : undefined);
    emit({ type: 'run-finished', runId: record.id, result });
    return result;
  }
}
