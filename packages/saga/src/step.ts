/**
 * What a saga step is: the seed's `{ name, execute(ctx), compensate(ctx) }`, plus the policies
 * that make it safe to run durably (retries, timeouts, what to do when a crash leaves its
 * outcome unknown, and whether it is the pivot after which nothing can be undone).
 */
import type { Policy, RetryOptions } from '@trellis/resilience';

/** W3C trace context and a correlation id, carried in the saga so every step can pass them on. */
export interface TraceContext {
  /** W3C `traceparent` header value of the trace the saga belongs to. */
  traceparent?: string;
  /** W3C `tracestate` header value. */
  tracestate?: string;
  /** Business correlation id (an order id, a request id) that rides along every hop. */
  correlationId?: string;
}

/** Facts about the running step, handed to `execute` and `compensate` as `ctx.saga`. */
export interface SagaRunInfo {
  /** The saga instance id. */
  readonly id: string;
  /** The saga's registered name. */
  readonly name: string;
  /** The step's name. */
  readonly step: string;
  /** Whether this call executes the step or compensates it. */
  readonly phase: 'execute' | 'compensate';
  /** 1-based attempt of this call: retries and crash recoveries both count. */
  readonly attempt: number;
  /** Trace context of the saga; pass it on in outgoing calls. */
  readonly trace: TraceContext;
}

/**
 * The context a step sees: the saga's data so far (input merged with earlier steps' results)
 * plus the runtime fields. `idempotencyKey` is the same on every attempt of this step of this
 * saga, before and after a crash: pass it to the service you call so a retry never applies
 * twice. `signal` aborts on timeout, lease loss or shutdown.
 */
export type StepContext<C> = Readonly<C> & {
  readonly idempotencyKey: string;
  readonly signal: AbortSignal;
  readonly saga: SagaRunInfo;
};

/**
 * The context a compensation sees. `idempotencyKey` is the compensation's own key;
 * `executeIdempotencyKey` is the key the forward step used, so a compensation can find what
 * the step did even when the step's result never reached the saga (outcome unknown).
 */
export type CompensationContext<C> = StepContext<C> & { readonly executeIdempotencyKey: string };

/** Keys the runtime puts in a step's context; inputs and step results must not use them. */
export const RESERVED_CONTEXT_KEYS = ['idempotencyKey', 'executeIdempotencyKey', 'signal', 'saga'] as const;

/**
 * How often a step (or its compensation) is tried: @trellis/resilience's retry options with
 * `maxAttempts` required, because retrying is explicit (a step without `retry` runs once, and
 * nothing retries forever unless you write `Infinity`). Which errors retry is decided by
 * `isRetryable` (default: resilience's `isTransientError`, i.e. everything except 4xx Trellis
 * errors and aborts). A {@link TerminalStepError} never retries, whatever `isRetryable` says.
 */
export type StepRetry = Omit<RetryOptions, 'clock' | 'maxAttempts'> & {
  /** Total attempts including the first (≥1). */
  maxAttempts: number;
};

/** Per-step policies; every field is optional. */
export interface StepPolicies {
  /** Forward retries; none by default (one attempt). */
  retry?: StepRetry;
  /** Abort an attempt after this long (through `ctx.signal`); the outcome is then unknown. */
  timeoutMs?: number;
  /** Any further resilience policy wrapped around each attempt, e.g. a circuit breaker. */
  policy?: Policy;
  /**
   * After a crash while this step was running its outcome is unknown: `'retry'` (default)
   * runs it again with the same idempotency key; `'compensate'` rolls the saga back,
   * compensating this step too (its compensation must tolerate "nothing to undo").
   */
  onUnknownOutcome?: 'retry' | 'compensate';
  /** Retries and timeout of the compensation (default: 5 attempts, back-off from 100 ms). */
  compensation?: { retry?: StepRetry; timeoutMs?: number };
}

/**
 * One step of a saga. The seed's shape: `execute` returns an object that is merged into the
 * context; `compensate` undoes it. Results must be JSON values (they are checkpointed).
 *
 * @example
 * ```ts
 * const reserve: SagaStep<{ sku: string }> = {
 *   name: 'reserveInventory',
 *   execute: (ctx) => inventory.reserve(ctx.sku, { idempotencyKey: ctx.idempotencyKey }),
 *   compensate: (ctx) => inventory.release(ctx.sku, { idempotencyKey: ctx.idempotencyKey }),
 * };
 * ```
 */
export interface SagaStep<C = Record<string, unknown>> extends StepPolicies {
  /** Unique within its saga; part of the idempotency key, so never rename a live step. */
  name: string;
  execute(ctx: StepContext<C>): unknown;
  /** Undoes `execute`; omit for steps with nothing to undo. */
  compensate?(ctx: CompensationContext<C>): unknown;
  /**
   * The point of no return: once it succeeds the saga can no longer be rolled back, so it has
   * no compensation, and every later step must have a `retry` policy (they can only go forward).
   */
  pivot?: boolean;
}

/** The keys the durable runner and the in-memory run give each step and compensation. */
export function idempotencyKeys(sagaId: string, step: string): { execute: string; compensate: string } {
  return { execute: `${sagaId}/${step}`, compensate: `${sagaId}/${step}/compensate` };
}
