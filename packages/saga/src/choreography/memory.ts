/**
 * In-memory pieces for testing choreography without a database: an outbox that publishes to a
 * bus when the in-memory inbox transaction commits, and a process store that applies writes
 * at commit. Same contracts as the SQL versions; nothing survives the process.
 */
import { ConflictError } from '@trellis/core';
import type { Bus, InMemoryInboxTransaction, Outbox, OutgoingMessage } from '@trellis/messaging';
import {
  type ProcessInstance,
  type ProcessListFilter,
  type ProcessStore,
  processListLimit,
} from './process-store.js';

/** An {@link Outbox} for `InMemoryInbox` transactions: messages are published after commit. */
export class InMemoryOutbox implements Outbox<InMemoryInboxTransaction> {
  constructor(private readonly bus: Pick<Bus, 'publishBatch'>) {}

  async enqueue(tx: InMemoryInboxTransaction, messages: readonly OutgoingMessage[]): Promise<void> {
    tx.afterCommit(() => void this.bus.publishBatch(messages));
  }
}

/** A {@link ProcessStore} in memory; writes apply when the transaction commits. */
export class MemoryProcessStore implements ProcessStore<InMemoryInboxTransaction> {
  private readonly rows = new Map<string, ProcessInstance>();

  async init(): Promise<void> {}

  async transaction<T>(fn: (tx: InMemoryInboxTransaction) => Promise<T>): Promise<T> {
    const effects: Array<() => void> = [];
    const value = await fn({ afterCommit: (f) => effects.push(f) });
    for (const effect of effects) effect();
    return value;
  }

  async load(
    _tx: InMemoryInboxTransaction,
    manager: string,
    id: string,
  ): Promise<ProcessInstance | undefined> {
    return this.get(manager, id);
  }

  async save(tx: InMemoryInboxTransaction, instance: ProcessInstance): Promise<void> {
    const key = `${instance.manager}\u0000${instance.correlationId}`;
    const current = this.rows.get(key)?.version ?? 0;
    if (current !== instance.version)
      throw new ConflictError(`Flow ${instance.correlationId} changed concurrently`);
    const next = structuredClone({ ...instance, version: instance.version + 1 });
    tx.afterCommit(() => this.rows.set(key, next));
  }

  async due(manager: string, now: number, limit: number): Promise<string[]> {
    return [...this.rows.values()]
      .filter(
        (r) => r.manager === manager && r.status === 'active' && r.deadlineAt !== null && r.deadlineAt <= now,
      )
      .sort((a, b) => (a.deadlineAt ?? 0) - (b.deadlineAt ?? 0))
      .slice(0, limit)
      .map((r) => r.correlationId);
  }

  async get(manager: string, id: string): Promise<ProcessInstance | undefined> {
    const row = this.rows.get(`${manager}\u0000${id}`);
    return row ? structuredClone(row) : undefined;
  }

  async list(manager: string, filter: ProcessListFilter = {}): Promise<ProcessInstance[]> {
    return [...this.rows.values()]
      .filter((r) => r.manager === manager && (!filter.status || r.status === filter.status))
      .sort((a, b) => b.createdAt - a.createdAt)
      .slice(0, processListLimit(filter))
      .map((r) => structuredClone(r));
  }
}
