/**
 * The process-store conformance suite: memory, SQLite and PostgreSQL keep process-manager
 * flows alike (versions, deadlines, history, transactions).
 */
import { isConflictError } from '@trellis/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProcessInstance, ProcessStore } from '../choreography/process-store.js';
import { uniqueName } from './fixture.js';

/** A fresh flow, as a process manager creates it (version 0, not yet saved). */
function flow(manager: string, id: string, patch: Partial<ProcessInstance> = {}): ProcessInstance {
  return {
    manager,
    correlationId: id,
    status: 'active',
    outcome: null,
    state: { stage: 'awaiting payment', amounts: [1, 2.5], note: 'ünïcødé' },
    deadlineAt: null,
    version: 0,
    createdAt: 1_000,
    updatedAt: 1_000,
    history: [{ at: 1_000, topic: 'order.created', messageId: 'm1', note: 'started' }],
    ...patch,
  };
}

/** Registers the process-store contract tests for a backend. */
export function describeProcessStoreContract<Tx>(
  backend: string,
  factory: () => Promise<{ store: ProcessStore<Tx>; close(): Promise<void> }>,
): void {
  describe(`ProcessStore contract: ${backend}`, () => {
    let store: ProcessStore<Tx>;
    let close: () => Promise<void>;
    beforeAll(async () => {
      ({ store, close } = await factory());
      await store.init();
    });
    afterAll(async () => {
      await close?.();
    });

    it('inserts a new flow once and round-trips it', async () => {
      const m = uniqueName('pm');
      await store.transaction((tx) => store.save(tx, flow(m, 'o1')));
      expect(await store.get(m, 'o1')).toEqual({ ...flow(m, 'o1'), version: 1 });
      const again = await store.transaction((tx) => store.save(tx, flow(m, 'o1'))).catch((e: unknown) => e);
      expect(isConflictError(again)).toBe(true);
      expect(await store.get(m, 'missing')).toBeUndefined();
    });

    it('updates at the loaded version and refuses a stale one', async () => {
      const m = uniqueName('pm');
      await store.transaction((tx) => store.save(tx, flow(m, 'o2')));
      await store.transaction(async (tx) => {
        const loaded = (await store.load(tx, m, 'o2'))!;
        await store.save(tx, { ...loaded, status: 'done', outcome: 'paid', updatedAt: 2_000 });
      });
      expect(await store.get(m, 'o2')).toMatchObject({
        status: 'done',
        outcome: 'paid',
        version: 2,
        updatedAt: 2_000,
        createdAt: 1_000,
      });
      const stale = await store
        .transaction((tx) => store.save(tx, flow(m, 'o2', { version: 1 })))
        .catch((e: unknown) => e);
      expect(isConflictError(stale)).toBe(true);
    });

    it('round-trips a state that is itself a JSON string, or null', async () => {
      const m = uniqueName('pm');
      await store.transaction(async (tx) => {
        await store.save(tx, flow(m, 'text', { state: '{"not":"an object"}', history: [] }));
        await store.save(tx, flow(m, 'empty', { state: null }));
      });
      expect((await store.get(m, 'text'))?.state).toBe('{"not":"an object"}');
      expect((await store.get(m, 'empty'))?.state).toBeNull();
      expect(await store.transaction((tx) => store.load(tx, m, 'text'))).toMatchObject({
        state: '{"not":"an object"}',
        history: [],
      });
    });

    it('writes nothing when the transaction rolls back', async () => {
      const m = uniqueName('pm');
      await expect(
        store.transaction(async (tx) => {
          await store.save(tx, flow(m, 'o3'));
          throw new Error('handler failed');
        }),
      ).rejects.toThrow('handler failed');
      expect(await store.get(m, 'o3')).toBeUndefined();
    });

    it('finds active flows past their deadline, oldest first, and lists by status', async () => {
      const m = uniqueName('pm');
      await store.transaction(async (tx) => {
        await store.save(tx, flow(m, 'late', { deadlineAt: 5_000, createdAt: 1 }));
        await store.save(tx, flow(m, 'later', { deadlineAt: 6_000, createdAt: 2 }));
        await store.save(tx, flow(m, 'future', { deadlineAt: 60_000, createdAt: 3 }));
        await store.save(tx, flow(m, 'none', { createdAt: 4 }));
        await store.save(
          tx,
          flow(m, 'done', { status: 'done', outcome: 'paid', deadlineAt: 1_000, createdAt: 5 }),
        );
      });
      expect(await store.due(m, 10_000, 10)).toEqual(['late', 'later']);
      expect(await store.due(m, 10_000, 1)).toEqual(['late']);
      expect(await store.due(uniqueName('other'), 10_000, 10)).toEqual([]);
      expect((await store.list(m, { status: 'done' })).map((f) => f.correlationId)).toEqual(['done']);
      expect((await store.list(m)).map((f) => f.correlationId)).toEqual([
        'done',
        'none',
        'future',
        'later',
        'late',
      ]);
      expect((await store.list(m, { limit: 2 })).map((f) => f.correlationId)).toEqual(['done', 'none']);
      // The same on every backend: a negative limit returns nothing (SQLite read it as no limit,
      // PostgreSQL refused it, memory dropped the oldest).
      expect(await store.list(m, { limit: -1 })).toEqual([]);
      expect(await store.list(m, { limit: 0 })).toEqual([]);
    });
  });
}
