import type { SqlTransaction } from '@trellis/core';
import type { ReadOptions, TransactionContext } from './event-store.js';
import type { MemoryTransaction } from './memory-transaction.js';

/** An aggregate's state at one stream version, so loading reads only the tail after it. */
export interface Snapshot<S = unknown> {
  streamId: string;
  aggregateType: string;
  /** Stream version the state includes (events up to and including it). */
  version: number;
  /**
   * Version of the *state shape*. Raise it when the aggregate's state changes shape: a
   * snapshot with another schema version is ignored and the state rebuilt from events.
   */
  schemaVersion: number;
  state: S;
  takenAt: Date;
}

/**
 * Where snapshots live. Snapshots are a cache: losing one only costs a longer replay. A
 * store never replaces a snapshot with one of a lower version of the same schema.
 */
export interface SnapshotStore<Tx extends TransactionContext = SqlTransaction> {
  /** The latest snapshot of `streamId`, if any. */
  load(streamId: string, options?: ReadOptions<Tx>): Promise<Snapshot | undefined>;
  /** Saves `snapshot` unless a newer one of the same schema version is already stored. */
  save(snapshot: Snapshot, options?: ReadOptions<Tx>): Promise<void>;
  /** Removes the snapshot of `streamId` (e.g. after deleting the aggregate). */
  delete(streamId: string, options?: ReadOptions<Tx>): Promise<void>;
}

/** Snapshots in a Map; writes made in a transaction apply at its commit. */
export class InMemorySnapshotStore implements SnapshotStore<MemoryTransaction> {
  private readonly snapshots = new Map<string, Snapshot>();

  async load(streamId: string): Promise<Snapshot | undefined> {
    const s = this.snapshots.get(streamId);
    return s ? structuredClone(s) : undefined;
  }

  async save(snapshot: Snapshot, options: ReadOptions<MemoryTransaction> = {}): Promise<void> {
    const copy = structuredClone(snapshot);
    const write = () => {
      const current = this.snapshots.get(copy.streamId);
      if (current && current.schemaVersion === copy.schemaVersion && current.version > copy.version) return;
      this.snapshots.set(copy.streamId, copy);
    };
    if (options.tx) options.tx.stage(write);
    else write();
  }

  async delete(streamId: string, options: ReadOptions<MemoryTransaction> = {}): Promise<void> {
    const remove = () => this.snapshots.delete(streamId);
    if (options.tx) options.tx.stage(remove);
    else remove();
  }
}
