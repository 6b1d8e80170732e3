import { ManualClock } from '@trellis/core';
import { afterEach, beforeEach } from 'vitest';
import type { CheckpointStore } from '../checkpoint-store.js';
import type { NewEvent } from '../domain-event.js';
import type { EventStore, EventStoreOptions, TransactionContext } from '../event-store.js';
import type { SnapshotStore } from '../snapshot-store.js';

/** Fresh, empty storage for one test (a new database, file or in-memory log). */
export interface ConformanceStorage<Tx extends TransactionContext> {
  /**
   * Opens a store over this storage. May be called several times: each call is like
   * another process over the same database (own hooks, own registry).
   */
  open(options?: EventStoreOptions<Tx>): Promise<EventStore<Tx>>;
  snapshots: SnapshotStore<Tx>;
  checkpoints: CheckpointStore<Tx>;
  /** Closes every store opened and the storage itself. */
  close(): Promise<void>;
}

/** Creates fresh storage; called before every test. */
export type ConformanceFactory<Tx extends TransactionContext> = () => Promise<ConformanceStorage<Tx>>;

/** The state one conformance test works with. */
export interface ConformanceContext<Tx extends TransactionContext> {
  storage: ConformanceStorage<Tx>;
  /** A store opened with {@link clock}. */
  store: EventStore<Tx>;
  clock: ManualClock;
}

/** 2026-01-01T00:00:00Z: every test's clock starts here. */
export const T0 = Date.UTC(2026, 0, 1);

/** Opens fresh storage and a store before each test and closes them after. */
export function useConformanceContext<Tx extends TransactionContext>(
  factory: ConformanceFactory<Tx>,
): ConformanceContext<Tx> {
  const ctx = {} as ConformanceContext<Tx>;
  beforeEach(async () => {
    ctx.clock = new ManualClock(T0);
    ctx.storage = await factory();
    ctx.store = await ctx.storage.open({ clock: ctx.clock });
  });
  afterEach(async () => {
    await ctx.storage.close();
  });
  return ctx;
}

/** `n` simple events: `{ eventType: 'Tick', payload: { n: i } }`. */
export function ticks(n: number, start = 0): NewEvent[] {
  return Array.from({ length: n }, (_, i) => ({ eventType: 'Tick', payload: { n: start + i } }));
}
