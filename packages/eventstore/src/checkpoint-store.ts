import type { SqlTransaction } from '@trellis/core';
import type { TransactionContext } from './event-store.js';
import type { MemoryTransaction } from './memory-transaction.js';

/** A stored checkpoint: how far a projection or subscriber has handled the global log. */
export interface Checkpoint {
  name: string;
  /** Global position of the last event handled (0 = nothing yet). */
  position: number;
  updatedAt: Date;
}

/**
 * Checkpoints of async projections and durable subscribers. Always used inside the same
 * transaction as the handler's writes, so a checkpoint can never pass what was handled.
 */
export interface CheckpointStore<Tx extends TransactionContext = SqlTransaction> {
  /**
   * The checkpoint of `name` (0 if none). Inside `tx`, backends that allow several
   * concurrent runners lock it until `tx` ends, so two runners never handle the same batch.
   */
  load(name: string, tx: Tx): Promise<number>;
  /** Moves `name` to `position` in `tx`. */
  save(name: string, position: number, tx: Tx): Promise<void>;
  /** Forgets `name` in `tx`. */
  delete(name: string, tx: Tx): Promise<void>;
  /** Every checkpoint, for dashboards. */
  list(): Promise<Checkpoint[]>;
}

/** Checkpoints in a Map; writes apply when their transaction commits. */
export class InMemoryCheckpointStore implements CheckpointStore<MemoryTransaction> {
  private readonly checkpoints = new Map<string, Checkpoint>();

  constructor(private readonly now: () => number = Date.now) {}

  async load(name: string): Promise<number> {
    return this.checkpoints.get(name)?.position ?? 0;
  }

  async save(name: string, position: number, tx: MemoryTransaction): Promise<void> {
    tx.stage(() => this.checkpoints.set(name, { name, position, updatedAt: new Date(this.now()) }));
  }

  async delete(name: string, tx: MemoryTransaction): Promise<void> {
    tx.stage(() => this.checkpoints.delete(name));
  }

  async list(): Promise<Checkpoint[]> {
    return [...this.checkpoints.values()].map((c) => ({ ...c }));
  }
}
