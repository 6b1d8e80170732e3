/**
 * The saga store contract: where the durable runner checkpoints instances and their
 * timelines. The backends implement it on their unit of work (`@trellis/sqlite`,
 * `@trellis/postgres`); {@link MemorySagaStore} implements it for tests. Every implementation
 * runs the conformance suite in `@trellis/saga/conformance`.
 *
 * Ownership is a lease with a fencing token: an instance records its `owner` and
 * `leaseUntil`, and every write names the `version` it expects. Claiming an instance bumps
 * the version, so a worker whose lease ran out can no longer write anything: its next
 * checkpoint is refused and it stops.
 */
import type { SqlTransaction } from '@trellis/core';
import type { TraceContext } from './step.js';

/** Lifecycle of an instance. The last three are terminal; exactly one is reached. */
export type SagaStatus = 'running' | 'compensating' | 'completed' | 'compensated' | 'failed';

/** Every status, in lifecycle order. */
export const SAGA_STATUSES: readonly SagaStatus[] = [
  'running',
  'compensating',
  'completed',
  'compensated',
  'failed',
];

/** True for `completed`, `compensated` and `failed`. */
export function isTerminalStatus(status: SagaStatus): boolean {
  return status === 'completed' || status === 'compensated' || status === 'failed';
}

/** An error as stored: enough to show an operator, JSON-safe. */
export interface StoredError {
  message: string;
  name?: string;
  code?: string;
  /** The step the error came from. */
  step?: string;
}

/** A saga instance as stored. */
export interface SagaInstance {
  id: string;
  /** The saga definition's name. */
  name: string;
  status: SagaStatus;
  /**
   * `running`: index of the step to run next (or running now). `compensating`: index of the
   * next step to compensate. Terminal: where it ended.
   */
  step: number;
  /** The input merged with every completed step's result. */
  context: Record<string, unknown>;
  /** The input the saga was started with (idempotent start compares it). */
  input: Record<string, unknown>;
  /** Why it compensated or failed. */
  error: StoredError | null;
  /** For `failed`: the status an operator resume goes back to. */
  resumeStatus: 'running' | 'compensating' | null;
  trace: TraceContext;
  /** Lease holder (a runner incarnation) and its stable worker id. */
  owner: string | null;
  worker: string | null;
  /** Epoch ms until which the owner holds the lease. */
  leaseUntil: number;
  /** Fencing token: bumped by every checkpoint and claim. */
  version: number;
  /** Times the current step was picked up again after its worker vanished. */
  recoveries: number;
  createdAt: number;
  updatedAt: number;
}

/** Kinds of timeline entries. */
export type SagaEventKind =
  | 'saga_started'
  | 'step_started'
  | 'step_succeeded'
  | 'step_failed'
  | 'step_recovered'
  | 'compensation_started'
  | 'step_compensated'
  | 'compensation_failed'
  | 'saga_completed'
  | 'saga_compensated'
  | 'saga_failed'
  | 'operator_resumed';

/** One entry of an instance's timeline. */
export interface SagaEvent {
  /** Store-wide increasing position (orders the timeline). */
  seq: number;
  sagaId: string;
  at: number;
  kind: SagaEventKind;
  step: string | null;
  attempt: number | null;
  durationMs: number | null;
  error: StoredError | null;
  /** Short free text (who resumed, which policy applied…). */
  note: string | null;
}

/** A timeline entry to append. */
export type NewSagaEvent = Omit<SagaEvent, 'seq' | 'sagaId'>;

/** A fenced state transition: applied only when the stored version still equals `expectedVersion`. */
export interface SagaCheckpoint {
  id: string;
  expectedVersion: number;
  status: SagaStatus;
  step: number;
  /** The new context; omit when unchanged (saves sending it). */
  context?: Record<string, unknown>;
  error: StoredError | null;
  resumeStatus: 'running' | 'compensating' | null;
  recoveries: number;
  /**
   * A new lease deadline; omit to leave the lease alone (the runner does: leases are renewed
   * by its lease keeper, so a checkpoint writes no indexed column and stays cheap).
   */
  leaseUntil?: number;
  updatedAt: number;
  events: NewSagaEvent[];
}

/** Which instances a worker may take over, and how. */
export interface ClaimRequest {
  owner: string;
  worker: string;
  /** Saga names this worker can run. */
  names: readonly string[];
  now: number;
  leaseUntil: number;
  limit: number;
}

/** Filter for {@link SagaStore.list}. */
export interface SagaListFilter {
  status?: SagaStatus;
  name?: string;
  /** Newest first; at most this many (default 50, max 1000). */
  limit?: number;
  /** Keyset pagination: only instances created before this id's instance. */
  before?: string;
}

/** Where sagas live. See the module comment for the lease and fencing rules. */
export interface SagaStore {
  /** Creates the tables if missing (idempotent; safe to call from every process at start-up). */
  init(): Promise<void>;
  /**
   * Inserts the instance unless its id exists (then returns the stored one with
   * `created: false`). With `tx`, the insert joins the caller's transaction.
   */
  create(
    instance: SagaInstance,
    events: NewSagaEvent[],
    tx?: SqlTransaction,
  ): Promise<{ created: boolean; instance: SagaInstance }>;
  /** Applies the transition when the version matches; false when fenced out (lease lost). */
  checkpoint(checkpoint: SagaCheckpoint): Promise<boolean>;
  /**
   * Takes over non-terminal instances whose lease has expired — or that belong to an earlier
   * incarnation of this `worker` — bumping version and `recoveries`. Two concurrent claims
   * never return the same instance.
   */
  claim(request: ClaimRequest): Promise<SagaInstance[]>;
  /** Extends the leases of instances still held at these versions; returns the ids renewed. */
  renew(
    owner: string,
    held: ReadonlyArray<{ id: string; version: number }>,
    leaseUntil: number,
  ): Promise<string[]>;
  /** Gives leases back (shutdown), so others may claim at once. */
  release(owner: string, held: ReadonlyArray<{ id: string; version: number }>): Promise<void>;
  /**
   * Operator resume of a `failed` instance: back to its `resumeStatus`, owned by `owner`.
   * Returns undefined when the instance is missing or not `failed`.
   */
  reopen(
    id: string,
    owner: { owner: string; worker: string; leaseUntil: number; now: number },
    events: NewSagaEvent[],
  ): Promise<SagaInstance | undefined>;
  get(id: string): Promise<SagaInstance | undefined>;
  list(filter?: SagaListFilter): Promise<SagaInstance[]>;
  /** The instance's timeline, oldest first. */
  timeline(id: string): Promise<SagaEvent[]>;
  /** How many instances are in each status (for gauges and the CLI). */
  countByStatus(): Promise<Record<SagaStatus, number>>;
}

/** A zeroed status count. */
export function emptyCounts(): Record<SagaStatus, number> {
  return { running: 0, compensating: 0, completed: 0, compensated: 0, failed: 0 };
}

/** Converts anything thrown into a {@link StoredError}. */
export function toStoredError(error: unknown, step?: string): StoredError {
  const out: StoredError = { message: 'unknown error' };
  if (error instanceof Error) {
    out.message = error.message;
    out.name = error.name;
    const code = (error as { code?: unknown }).code;
    if (typeof code === 'string') out.code = code;
  } else if (error !== undefined) {
    out.message = typeof error === 'string' ? error : safeJson(error);
  }
  if (step !== undefined) out.step = step;
  return out;
}

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}
