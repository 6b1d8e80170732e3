/**
 * Inspection and operator actions that need only a store, not the saga code: list instances
 * by status, show one instance's timeline per step (attempts, errors, durations), count by
 * status, and mark a failed saga for resumption by whichever worker runs it. The CLI
 * (`trellis sagas list|show|resume`) is built on this.
 */
import { type Clock, systemClock } from '@trellis/core';
import { SagaNotFoundError, SagaStateError } from './errors.js';
import type { SagaEvent, SagaInstance, SagaListFilter, SagaStatus, SagaStore, StoredError } from './store.js';

/** One step as the timeline shows it. */
export interface StepSummary {
  step: string;
  /** Where the step got to. */
  status: 'started' | 'succeeded' | 'failed' | 'compensated' | 'compensation_failed';
  /** Executions (retries and crash recoveries included). */
  attempts: number;
  /** Compensation attempts (0 when never compensated). */
  compensationAttempts: number;
  /** Duration of the successful execution (all its attempts), when it succeeded. */
  durationMs: number | null;
  errors: Array<StoredError & { at: number; attempt: number | null; phase: 'execute' | 'compensate' }>;
}

/** An instance with its full history. */
export interface SagaTimeline {
  instance: SagaInstance;
  events: SagaEvent[];
  steps: StepSummary[];
}

/** Read-side and operator view of a store. */
export class SagaInspector {
  constructor(
    private readonly store: SagaStore,
    private readonly clock: Clock = systemClock,
  ) {}

  /** Instances, newest first. */
  list(filter: SagaListFilter = {}): Promise<SagaInstance[]> {
    return this.store.list(filter);
  }

  /** Throws `SagaNotFoundError` for an unknown id. */
  async get(id: string): Promise<SagaInstance> {
    const row = await this.store.get(id);
    if (!row) throw new SagaNotFoundError(id);
    return row;
  }

  /** The instance, its events and a per-step summary. Throws `SagaNotFoundError`. */
  async timeline(id: string): Promise<SagaTimeline> {
    const instance = await this.get(id);
    const events = await this.store.timeline(id);
    return { instance, events, steps: summarise(events) };
  }

  /** How many instances are in each status. */
  counts(): Promise<Record<SagaStatus, number>> {
    return this.store.countByStatus();
  }

  /**
   * Marks a `failed` saga to be resumed: it goes back to `running` or `compensating` with an
   * expired lease, and the next worker that runs this saga type picks it up.
   *
   * Throws `SagaNotFoundError`, or `SagaStateError` when the saga is not `failed`.
   */
  async requestResume(id: string, note = 'operator'): Promise<SagaInstance> {
    const now = this.clock.now();
    const event = {
      at: now,
      kind: 'operator_resumed' as const,
      step: null,
      attempt: null,
      durationMs: null,
      error: null,
      note,
    };
    const reopened = await this.store.reopen(
      id,
      { owner: 'operator', worker: 'operator', leaseUntil: 0, now },
      [event],
    );
    if (reopened) return reopened;
    const row = await this.get(id);
    throw new SagaStateError(`Saga ${id} is ${row.status}; only a failed saga can be resumed`, {
      status: row.status,
    });
  }
}

/** Folds a timeline into one summary per step, in the order the steps first appear. */
export function summarise(events: readonly SagaEvent[]): StepSummary[] {
  const steps = new Map<string, StepSummary>();
  const of = (name: string): StepSummary => {
    let s = steps.get(name);
    if (!s) {
      s = {
        step: name,
        status: 'started',
        attempts: 0,
        compensationAttempts: 0,
        durationMs: null,
        errors: [],
      };
      steps.set(name, s);
    }
    return s;
  };
  for (const e of events) {
    if (e.step === null) continue;
    const s = of(e.step);
    const error = (phase: 'execute' | 'compensate') => {
      if (e.error) s.errors.push({ ...e.error, at: e.at, attempt: e.attempt, phase });
    };
    switch (e.kind) {
      case 'step_started':
        s.status = 'started';
        break;
      case 'step_recovered':
        // The attempt the crash interrupted left no outcome of its own: count it here.
        if (e.note === 'retry compensation') s.compensationAttempts++;
        else s.attempts++;
        if (e.note === 'retry') s.status = 'started';
        break;
      case 'step_succeeded':
        s.attempts++;
        s.status = 'succeeded';
        s.durationMs = e.durationMs;
        break;
      case 'step_failed':
        s.attempts++;
        if (e.note !== 'retried') s.status = 'failed';
        error('execute');
        break;
      case 'step_compensated':
        s.compensationAttempts++;
        s.status = 'compensated';
        break;
      case 'compensation_failed':
        s.compensationAttempts++;
        if (e.note !== 'retried') s.status = 'compensation_failed';
        error('compensate');
        break;
      default:
        break;
    }
  }
  return [...steps.values()];
}
