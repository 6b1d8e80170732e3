/**
 * Runs one tool call the safe way, for the agent loop and the MCP server alike: look the tool
 * up, check the user's permissions, validate the arguments, decide on approval, then execute
 * under a timeout that aborts (and the tool's breaker, if any) inside its own span. Every
 * failure becomes a tool result; nothing here throws at the caller.
 */
import type { Context, Tracer } from '@opentelemetry/api';
import { type Clock, systemClock } from '@trellis/core';
import { isTimeoutError, type Policy, TimeoutPolicy } from '@trellis/resilience';
import type { Principal } from '../identity.js';
import type { ToolCall, ToolResult } from '../messages.js';
import { defaultTracer, endSpan, startChildSpan, traceHeaders, withContext } from '../tracing.js';
import type { ToolRegistry } from './registry.js';
import type { Tool, ToolContext } from './tool.js';
import { errorResult, successResult, ToolErrorCode, thrownResult } from './tool-results.js';

/** Configuration of a {@link ToolExecutor}. */
export interface ToolExecutorOptions {
  registry: ToolRegistry;
  clock?: Clock;
  tracer?: Tracer;
  /** Timeout for tools that set none (default 30 000 ms). */
  defaultTimeoutMs?: number;
  /** Results longer than this are cut (default 32 000 characters). */
  maxResultChars?: number;
  /** Show messages of unexpected (non-Trellis) tool errors to the model (default false). */
  exposeToolErrors?: boolean;
}

/** A call checked and ready: rejected outright, waiting for approval, or ready to run. */
export type PreparedCall =
  | { kind: 'result'; call: ToolCall; result: ToolResult }
  | { kind: 'approval'; call: ToolCall; tool: Tool; args: unknown; description: string }
  | { kind: 'run'; call: ToolCall; tool: Tool; args: unknown };

/** Where a call runs: for whom, in which run, under which signal and trace. */
export interface ExecutionScope {
  user: Principal;
  runId: string;
  /** The run's signal (deadline, caller cancel). */
  signal: AbortSignal;
  /** The parent trace context (the run's span). */
  parent: Context;
  /** Bounds concurrency; runs inside the timeout, so a slot frees only when the work ends. */
  limiter?: Policy;
}

/** Checks and runs tool calls. */
export class ToolExecutor {
  readonly registry: ToolRegistry;
  private readonly clock: Clock;
  private readonly tracer: Tracer;
  private readonly defaultTimeoutMs: number;
  private readonly maxResultChars: number;
  private readonly expose: boolean;

  constructor(options: ToolExecutorOptions) {
    this.registry = options.registry;
    this.clock = options.clock ?? systemClock;
    this.tracer = options.tracer ?? defaultTracer();
    this.defaultTimeoutMs = options.defaultTimeoutMs ?? 30_000;
    this.maxResultChars = options.maxResultChars ?? 32_000;
    this.expose = options.exposeToolErrors ?? false;
  }

  /**
   * Checks a call before anything runs: unknown tool, missing permission, malformed or invalid
   * arguments each become an error result; otherwise the call needs approval or can run.
   * `approved` skips the approval check (a human already said yes).
   */
  async prepare(call: ToolCall, user: Principal, approved = false): Promise<PreparedCall> {
    const tool = this.registry.get(call.name);
    if (!tool) {
      const names = this.registry.available(user).map((t) => t.name);
      const message = `No tool named "${call.name}". Available tools: ${names.join(', ') || 'none'}`;
      return { kind: 'result', call, result: errorResult(call, ToolErrorCode.unknown, message) };
    }
    if (!user.canAll(tool.permissions)) {
      const message = `The current user is not allowed to use "${call.name}"`;
      return { kind: 'result', call, result: errorResult(call, ToolErrorCode.forbidden, message) };
    }
    if (call.invalidJson !== undefined) {
      const message = `Arguments for "${call.name}" are not valid JSON; send a JSON object matching the schema`;
      return { kind: 'result', call, result: errorResult(call, ToolErrorCode.invalidArguments, message) };
    }
    const parsed = tool.parse(call.arguments ?? {});
    if (!parsed.ok) {
      const summary = parsed.issues.map((i) => `${i.path || '(arguments)'}: ${i.message}`).join('; ');
      const message = `Invalid arguments for "${call.name}": ${summary}`;
      const result = errorResult(call, ToolErrorCode.invalidArguments, message, { issues: parsed.issues });
      return { kind: 'result', call, result };
    }
    if (!approved) {
      try {
        if (await tool.needsApproval(parsed.value, { user })) {
          return {
            kind: 'approval',
            call,
            tool,
            args: parsed.value,
            description: tool.describeCall(parsed.value),
          };
        }
      } catch (err) {
        return { kind: 'result', call, result: thrownResult(call, err, this.expose) };
      }
    }
    return { kind: 'run', call, tool, args: parsed.value };
  }

  /** Runs a prepared call; resolves with its result (never rejects). */
  async execute(
    prepared: Extract<PreparedCall, { kind: 'run' }>,
    scope: ExecutionScope,
  ): Promise<ToolResult> {
    const { call, tool, args } = prepared;
    const timeoutMs = tool.timeoutMs ?? this.defaultTimeoutMs;
    const { span, ctx } = startChildSpan(
      this.tracer,
      `execute_tool ${tool.name}`,
      {
        'gen_ai.operation.name': 'execute_tool',
        'gen_ai.tool.name': tool.name,
        'gen_ai.tool.call.id': call.id,
        'trellis.agent.run_id': scope.runId,
        'enduser.id': scope.user.id,
      },
      scope.parent,
    );
    const headers = () => {
      const out = traceHeaders(ctx);
      for (const [name, value] of Object.entries(scope.user.credentials ?? {}))
        out[name.toLowerCase()] = value;
      return out;
    };
    const work = (signal: AbortSignal) => {
      const toolCtx: ToolContext = {
        user: scope.user,
        signal,
        runId: scope.runId,
        toolCallId: call.id,
        headers,
      };
      const run = () => withContext(ctx, () => tool.execute(args, toolCtx));
      return tool.breaker ? tool.breaker.execute(() => run(), signal) : run();
    };
    let result: ToolResult;
    try {
      const timeout = new TimeoutPolicy(timeoutMs, { clock: this.clock });
      const value = await timeout.execute(
        (signal) => (scope.limiter ? scope.limiter.execute(work, signal) : work(signal)),
        scope.signal,
      );
      result = successResult(call, value, this.maxResultChars);
    } catch (err) {
      if (scope.signal.aborted) {
        result = errorResult(
          call,
          ToolErrorCode.notExecuted,
          `The run was stopped before "${tool.name}" finished`,
        );
      } else if (isTimeoutError(err) && err.timeoutMs === timeoutMs) {
        result = errorResult(
          call,
          ToolErrorCode.timeout,
          `Tool "${tool.name}" did not finish within ${timeoutMs} ms`,
        );
      } else {
        result = thrownResult(call, err, this.expose);
      }
    }
    endSpan(
      span,
      result.isError ? { code: result.errorCode ?? 'ERROR', message: result.content } : undefined,
    );
    return result;
  }
}
