/**
 * An in-memory {@link SagaStore} for tests and single-process tools. It keeps the same rules
 * as the SQL stores — fencing, leases, JSON round trips of context — so code tested against it
 * behaves the same on a real backend. Nothing survives the process.
 */
import type { SqlTransaction } from '@trellis/core';
import {
  type ClaimRequest,
  emptyCounts,
  isTerminalStatus,
  type NewSagaEvent,
  type SagaCheckpoint,
  type SagaEvent,
  type SagaInstance,
  type SagaListFilter,
  type SagaStatus,
  type SagaStore,
} from './store.js';

/** Keeps instances and timelines in maps. */
export class MemorySagaStore implements SagaStore {
  private readonly instances = new Map<string, SagaInstance>();
  private readonly events = new Map<string, SagaEvent[]>();
  private seq = 0;

  async init(): Promise<void> {}

  async create(
    instance: SagaInstance,
    events: NewSagaEvent[],
    tx?: SqlTransaction,
  ): Promise<{ created: boolean; instance: SagaInstance }> {
    if (tx) throw new Error('MemorySagaStore cannot join a SQL transaction; use a SQL backend store');
    const existing = this.instances.get(instance.id);
    if (existing) return { created: false, instance: clone(existing) };
    this.instances.set(instance.id, clone(instance));
    this.append(instance.id, events);
    return { created: true, instance: clone(instance) };
  }

  async checkpoint(cp: SagaCheckpoint): Promise<boolean> {
    const row = this.instances.get(cp.id);
    if (!row || row.version !== cp.expectedVersion) return false;
    row.version++;
    row.status = cp.status;
    row.step = cp.step;
    if (cp.context) row.context = json(cp.context);
    row.error = cp.error ? { ...cp.error } : null;
    row.resumeStatus = cp.resumeStatus;
    row.recoveries = cp.recoveries;
    if (cp.leaseUntil !== undefined) row.leaseUntil = cp.leaseUntil;
    row.updatedAt = cp.updatedAt;
    this.append(cp.id, cp.events);
    return true;
  }

  async claim(req: ClaimRequest): Promise<SagaInstance[]> {
    const out: SagaInstance[] = [];
    const candidates = [...this.instances.values()]
      .filter(
        (r) =>
          !isTerminalStatus(r.status) &&
          req.names.includes(r.name) &&
          (r.leaseUntil <= req.now || (r.worker === req.worker && r.owner !== req.owner)),
      )
      .sort((a, b) => a.leaseUntil - b.leaseUntil);
    for (const r of candidates.slice(0, req.limit)) {
      r.owner = req.owner;
      r.worker = req.worker;
      r.leaseUntil = req.leaseUntil;
      r.version++;
      r.recoveries++;
      r.updatedAt = req.now;
      out.push(clone(r));
    }
    return out;
  }

  async renew(owner: string, held: ReadonlyArray<{ id: string; version: number }>, leaseUntil: number) {
    const renewed: string[] = [];
    for (const h of held) {
      const r = this.instances.get(h.id);
      if (r && r.owner === owner && r.version === h.version) {
        r.leaseUntil = leaseUntil;
        renewed.push(h.id);
      }
    }
    return renewed;
  }

  async release(owner: string, held: ReadonlyArray<{ id: string; version: number }>): Promise<void> {
    for (const h of held) {
      const r = this.instances.get(h.id);
      if (r && r.owner === owner && r.version === h.version) r.leaseUntil = 0;
    }
  }

  async reopen(
    id: string,
    by: { owner: string; worker: string; leaseUntil: number; now: number },
    events: NewSagaEvent[],
  ): Promise<SagaInstance | undefined> {
    const r = this.instances.get(id);
    if (r?.status !== 'failed' || !r.resumeStatus) return undefined;
    r.status = r.resumeStatus;
    r.resumeStatus = null;
    r.owner = by.owner;
    r.worker = by.worker;
    r.leaseUntil = by.leaseUntil;
    r.recoveries = 0;
    r.version++;
    r.updatedAt = by.now;
    this.append(id, events);
    return clone(r);
  }

  async get(id: string): Promise<SagaInstance | undefined> {
    const r = this.instances.get(id);
    return r ? clone(r) : undefined;
  }

  async list(filter: SagaListFilter = {}): Promise<SagaInstance[]> {
    const limit = Math.min(Math.max(filter.limit ?? 50, 1), 1000);
    let rows = [...this.instances.values()].sort(
      (a, b) => (a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1)) * -1,
    );
    if (filter.before) {
      const pivot = this.instances.get(filter.before);
      rows = pivot
        ? rows.filter(
            (r) => r.createdAt < pivot.createdAt || (r.createdAt === pivot.createdAt && r.id < pivot.id),
          )
        : [];
    }
    return rows
      .filter(
        (r) => (!filter.status || r.status === filter.status) && (!filter.name || r.name === filter.name),
      )
      .slice(0, limit)
      .map(clone);
  }

  async timeline(id: string): Promise<SagaEvent[]> {
    return (this.events.get(id) ?? []).map((e) => ({ ...e }));
  }

  async countByStatus(): Promise<Record<SagaStatus, number>> {
    const counts = emptyCounts();
    for (const r of this.instances.values()) counts[r.status]++;
    return counts;
  }

  private append(id: string, events: NewSagaEvent[]): void {
    const list = this.events.get(id) ?? [];
    for (const e of events) list.push({ ...e, seq: ++this.seq, sagaId: id });
    this.events.set(id, list);
  }
}

function json<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}

function clone(r: SagaInstance): SagaInstance {
  return json(r);
}
