/** Shared pieces of the saga conformance suites. */
import { randomUUID } from 'node:crypto';
import type { SqlDatabase } from '@trellis/core';
import type { NewSagaEvent, SagaInstance, SagaStore } from '../store.js';

/** What a backend hands the suites: a ready store (tables created) and how to dispose of it. */
export interface SagaStoreFixture {
  store: SagaStore;
  /** The unit of work behind the store, for the tests that start a saga inside a transaction. */
  db?: SqlDatabase;
  /**
   * Opens a second, independent store on the same data (a second connection or pool), as a
   * second process would; used by the two-worker tests. Defaults to sharing `store`.
   */
  openPeer?: () => Promise<{ store: SagaStore; close(): Promise<void> }>;
  close(): Promise<void>;
}

/** Makes a fixture; called once per `describe` block. */
export type SagaStoreFactory = () => Promise<SagaStoreFixture>;

/** A unique name, so tests sharing one database never see each other's rows. */
export function uniqueName(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

/** A fresh running instance, owned by `owner`, as `SagaRunner.start` would create it. */
export function newInstance(name: string, overrides: Partial<SagaInstance> = {}): SagaInstance {
  const now = overrides.createdAt ?? 1_000;
  return {
    id: randomUUID(),
    name,
    status: 'running',
    step: 0,
    context: { orderId: 'o-1', amount: 12.5 },
    input: { orderId: 'o-1', amount: 12.5 },
    error: null,
    resumeStatus: null,
    trace: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01', correlationId: 'c-1' },
    owner: 'w1#a',
    worker: 'w1',
    leaseUntil: now + 30_000,
    version: 1,
    recoveries: 0,
    createdAt: now,
    updatedAt: now,
    ...overrides,
  };
}

/** A timeline entry with defaults. */
export function ev(
  kind: NewSagaEvent['kind'],
  step: string | null,
  extra: Partial<NewSagaEvent> = {},
): NewSagaEvent {
  return { at: 1_000, kind, step, attempt: null, durationMs: null, error: null, note: null, ...extra };
}
