/** Configuration of the durable {@link SagaRunner}. */
import { randomUUID } from 'node:crypto';
import { type Clock, systemClock, ValidationError } from '@trellis/core';
import type { DeadLetterStore } from '@trellis/messaging';
import { z } from 'zod';
import type { SagaObserver } from './observer.js';
import type { SagaStore } from './store.js';

/** Options of a {@link SagaRunner}. */
export interface SagaRunnerOptions {
  /** Where instances are checkpointed (`SqliteSagaStore`, `PostgresSagaStore`, `MemorySagaStore`). */
  store: SagaStore;
  clock?: Clock;
  /**
   * Stable id of this worker (a pod name, `host:slot`). After a restart, a runner with the same
   * worker id takes its previous incarnation's instances back at once instead of waiting for
   * their leases to expire. Must be unique among live workers. Default: random per runner.
   */
  worker?: string;
  /** Lease length: how long a crashed worker's instances wait before others take them (default 30 s). */
  leaseMs?: number;
  /** How often the worker looks for instances to recover, and waiters poll the store (default 1 s). */
  pollIntervalMs?: number;
  /** Most instances this runner takes over at once through recovery (default 100). */
  maxConcurrent?: number;
  /**
   * A step picked up again more than this many times after its worker vanished is treated as a
   * poison step: the saga ends `failed` instead of crashing workers forever (default 10).
   */
  maxRecoveryAttempts?: number;
  /** Metrics hooks. */
  observer?: SagaObserver;
  /** Failed sagas are also recorded here, next to the bus's dead letters. */
  deadLetters?: DeadLetterStore;
  /** Back-off between retries of a checkpoint while the database is unreachable (ms). */
  storeRetry?: { initialDelay?: number; maxDelay?: number };
}

/** Options after defaults and validation. */
export interface ResolvedRunnerOptions {
  store: SagaStore;
  clock: Clock;
  worker: string;
  owner: string;
  leaseMs: number;
  pollIntervalMs: number;
  maxConcurrent: number;
  maxRecoveryAttempts: number;
  observer: SagaObserver | undefined;
  deadLetters: DeadLetterStore | undefined;
  storeRetry: { initialDelay: number; maxDelay: number };
}

const schema = z.object({
  worker: z.string().min(1).max(200).optional(),
  leaseMs: z.number().int().min(10).optional(),
  pollIntervalMs: z.number().int().min(1).optional(),
  maxConcurrent: z.number().int().min(1).optional(),
  maxRecoveryAttempts: z.number().int().min(0).optional(),
  storeRetry: z
    .object({ initialDelay: z.number().min(0).optional(), maxDelay: z.number().min(0).optional() })
    .optional(),
});

/** Applies defaults. Throws `ValidationError` naming the bad option. */
export function resolveRunnerOptions(options: SagaRunnerOptions): ResolvedRunnerOptions {
  const parsed = schema.safeParse(options);
  if (!parsed.success) throw ValidationError.fromZod(parsed.error, 'saga runner options');
  if (!options.store)
    throw new ValidationError('A saga runner needs a store', [{ path: 'store', message: 'required' }]);
  const worker = options.worker ?? randomUUID();
  return {
    store: options.store,
    clock: options.clock ?? systemClock,
    worker,
    // The owner names this incarnation: a restarted worker has the same worker id, a new owner.
    owner: `${worker}#${randomUUID().slice(0, 8)}`,
    leaseMs: options.leaseMs ?? 30_000,
    pollIntervalMs: options.pollIntervalMs ?? 1000,
    maxConcurrent: options.maxConcurrent ?? 100,
    maxRecoveryAttempts: options.maxRecoveryAttempts ?? 10,
    observer: options.observer,
    deadLetters: options.deadLetters,
    storeRetry: {
      initialDelay: options.storeRetry?.initialDelay ?? 50,
      maxDelay: options.storeRetry?.maxDelay ?? 5000,
    },
  };
}
