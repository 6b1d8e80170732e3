/**
 * The saga store conformance suite: every `SagaStore` (memory, SQLite, PostgreSQL) runs it, so
 * idempotent creation, fencing, lease claims and inspection behave the same everywhere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SagaCheckpoint, SagaInstance, SagaStore } from '../store.js';
import { ev, newInstance, type SagaStoreFactory, type SagaStoreFixture, uniqueName } from './fixture.js';

function checkpointOf(inst: SagaInstance, patch: Partial<SagaCheckpoint> = {}): SagaCheckpoint {
  return {
    id: inst.id,
    expectedVersion: inst.version,
    status: inst.status,
    step: inst.step,
    error: inst.error,
    resumeStatus: inst.resumeStatus,
    recoveries: inst.recoveries,
    leaseUntil: inst.leaseUntil,
    updatedAt: inst.updatedAt,
    events: [],
    ...patch,
  };
}

/** Registers the store contract tests for a backend. */
export function describeSagaStoreContract(
  backend: string,
  factory: SagaStoreFactory,
  options: { transactional?: boolean } = {},
): void {
  describe(`SagaStore contract: ${backend}`, () => {
    let fx: SagaStoreFixture;
    let store: SagaStore;
    beforeAll(async () => {
      fx = await factory();
      store = fx.store;
      await store.init(); // a second init must be harmless
    });
    afterAll(async () => {
      await fx?.close();
    });

    it('creates an instance once; a second create with the same id returns the stored one', async () => {
      const inst = newInstance(uniqueName('create'));
      const first = await store.create(inst, [
        ev('saga_started', null),
        ev('step_started', 'a', { attempt: 1 }),
      ]);
      expect(first.created).toBe(true);
      expect(first.instance).toEqual(inst);
      const again = await store.create({ ...inst, input: { other: true }, context: { other: true } }, [
        ev('saga_started', null),
      ]);
      expect(again.created).toBe(false);
      expect(again.instance).toEqual(inst);
      expect((await store.timeline(inst.id)).map((e) => e.kind)).toEqual(['saga_started', 'step_started']);
    });

    it('concurrent creates with one id create exactly one instance', async () => {
      const inst = newInstance(uniqueName('race'));
      const results = await Promise.all(
        Array.from({ length: 8 }, (_, i) =>
          store.create({ ...inst, owner: `w${i}#x` }, [ev('saga_started', null)]),
        ),
      );
      expect(results.filter((r) => r.created)).toHaveLength(1);
      const owners = new Set(results.map((r) => r.instance.owner));
      expect(owners.size).toBe(1);
      expect(await store.timeline(inst.id)).toHaveLength(1);
    });

    it('round-trips context, input, trace and errors as JSON', async () => {
      const context = {
        s: 'ünïcødé ✓',
        n: -1.25,
        big: 2 ** 40,
        nested: { list: [1, 'two', null, { deep: true }] },
        nil: null,
      };
      const inst = newInstance(uniqueName('json'), { context, input: context });
      await store.create(inst, []);
      const err = { message: 'boom "quoted"', name: 'TypeError', code: 'E_X', step: 'a' };
      expect(
        await store.checkpoint(
          checkpointOf(inst, { error: err, events: [ev('step_failed', 'a', { error: err })] }),
        ),
      ).toBe(true);
      const got = await store.get(inst.id);
      expect(got?.context).toEqual(context);
      expect(got?.input).toEqual(context);
      expect(got?.trace).toEqual(inst.trace);
      expect(got?.error).toEqual(err);
      expect((await store.timeline(inst.id))[0]?.error).toEqual(err);
    });

    it('applies a checkpoint only at the expected version (fencing) and bumps the version', async () => {
      const inst = newInstance(uniqueName('fence'));
      await store.create(inst, []);
      const cp = checkpointOf(inst, {
        step: 1,
        context: { ...inst.context, paid: true },
        leaseUntil: 99_000,
        updatedAt: 2_000,
        events: [
          ev('step_succeeded', 'a', { attempt: 1, durationMs: 3 }),
          ev('step_started', 'b', { attempt: 1 }),
        ],
      });
      expect(await store.checkpoint(cp)).toBe(true);
      expect(await store.checkpoint({ ...cp, step: 7, events: [ev('step_started', 'zzz')] })).toBe(false);
      const got = await store.get(inst.id);
      expect(got).toMatchObject({
        step: 1,
        version: 2,
        leaseUntil: 99_000,
        updatedAt: 2_000,
        context: { paid: true },
      });
      expect((await store.timeline(inst.id)).map((e) => e.kind)).toEqual(['step_succeeded', 'step_started']);
    });

    it('keeps the context when a checkpoint omits it, and stores terminal states', async () => {
      const inst = newInstance(uniqueName('terminal'), { context: { a: 1 } });
      await store.create(inst, []);
      const error = { message: 'declined', step: 'pay' };
      const ok = await store.checkpoint(
        checkpointOf(inst, {
          status: 'failed',
          error,
          resumeStatus: 'compensating',
          events: [ev('saga_failed', 'pay')],
        }),
      );
      expect(ok).toBe(true);
      expect(await store.get(inst.id)).toMatchObject({
        status: 'failed',
        error,
        resumeStatus: 'compensating',
        context: { a: 1 },
      });
    });

    it('checkpoint of an unknown id is refused', async () => {
      expect(await store.checkpoint(checkpointOf(newInstance('ghost')))).toBe(false);
    });

    it('claims only non-terminal instances of the given names whose lease expired', async () => {
      const name = uniqueName('claim');
      const expired = newInstance(name, { leaseUntil: 500 });
      const compensating = newInstance(name, { status: 'compensating', leaseUntil: 400 });
      const live = newInstance(name, { leaseUntil: 50_000 });
      const done = newInstance(name, { status: 'completed', leaseUntil: 0 });
      const other = newInstance(uniqueName('other'), { leaseUntil: 0 });
      for (const i of [expired, compensating, live, done, other]) await store.create(i, []);
      const claimed = await store.claim({
        owner: 'w2#b',
        worker: 'w2',
        names: [name],
        now: 1_000,
        leaseUntil: 31_000,
        limit: 10,
      });
      expect(claimed.map((c) => c.id).sort()).toEqual([expired.id, compensating.id].sort());
      for (const c of claimed) {
        expect(c).toMatchObject({
          owner: 'w2#b',
          worker: 'w2',
          leaseUntil: 31_000,
          version: 2,
          recoveries: 1,
        });
      }
      const again = await store.claim({
        owner: 'w3#c',
        worker: 'w3',
        names: [name],
        now: 1_000,
        leaseUntil: 31_000,
        limit: 10,
      });
      expect(again).toEqual([]);
    });

    it("lets a restarted worker take its previous incarnation's instances at once", async () => {
      const name = uniqueName('incarnation');
      const mine = newInstance(name, { owner: 'w9#old', worker: 'w9', leaseUntil: 90_000 });
      await store.create(mine, []);
      const byOther = await store.claim({
        owner: 'w8#x',
        worker: 'w8',
        names: [name],
        now: 1_000,
        leaseUntil: 2_000,
        limit: 5,
      });
      expect(byOther).toEqual([]);
      const sameIncarnation = await store.claim({
        owner: 'w9#old',
        worker: 'w9',
        names: [name],
        now: 1_000,
        leaseUntil: 2_000,
        limit: 5,
      });
      expect(sameIncarnation).toEqual([]);
      const restarted = await store.claim({
        owner: 'w9#new',
        worker: 'w9',
        names: [name],
        now: 1_000,
        leaseUntil: 2_000,
        limit: 5,
      });
      expect(restarted.map((r) => r.id)).toEqual([mine.id]);
    });

    it('honours the claim limit, and concurrent claimers never get the same instance', async () => {
      const name = uniqueName('claimers');
      const ids: string[] = [];
      for (let i = 0; i < 30; i++) {
        const inst = newInstance(name, { leaseUntil: 0 });
        ids.push(inst.id);
        await store.create(inst, []);
      }
      expect(
        await store.claim({
          owner: 'limit#1',
          worker: 'limit',
          names: [name],
          now: 1,
          leaseUntil: 50_000,
          limit: 3,
        }),
      ).toHaveLength(3);
      const peer = fx.openPeer ? await fx.openPeer() : undefined;
      const stores = [store, peer?.store ?? store];
      try {
        const batches = await Promise.all(
          Array.from({ length: 6 }, (_, i) =>
            stores[i % 2]!.claim({
              owner: `c${i}#x`,
              worker: `c${i}`,
              names: [name],
              now: 3,
              leaseUntil: 10_000,
              limit: 5,
            }),
          ),
        );
        const claimed = batches.flat().map((b) => b.id);
        expect(new Set(claimed).size).toBe(claimed.length);
        expect(claimed.length).toBeLessThanOrEqual(27);
      } finally {
        await peer?.close();
      }
    });

    it('renews only leases still held at the given version, and release frees them', async () => {
      const name = uniqueName('renew');
      const a = newInstance(name, { owner: 'r#1', leaseUntil: 100 });
      const b = newInstance(name, { owner: 'r#1', leaseUntil: 100 });
      const c = newInstance(name, { owner: 'someone#else', leaseUntil: 100 });
      for (const i of [a, b, c]) await store.create(i, []);
      const renewed = await store.renew(
        'r#1',
        [
          { id: a.id, version: 1 },
          { id: b.id, version: 5 },
          { id: c.id, version: 1 },
        ],
        9_000,
      );
      expect(renewed).toEqual([a.id]);
      expect((await store.get(a.id))?.leaseUntil).toBe(9_000);
      expect((await store.get(b.id))?.leaseUntil).toBe(100);
      expect(await store.renew('r#1', [], 9_000)).toEqual([]);
      await store.release('r#1', [
        { id: a.id, version: 1 },
        { id: c.id, version: 1 },
      ]);
      expect((await store.get(a.id))?.leaseUntil).toBe(0);
      expect((await store.get(c.id))?.leaseUntil).toBe(100);
    });

    it('reopens only a failed instance, into its resume status, with fresh recoveries', async () => {
      const inst = newInstance(uniqueName('reopen'), { recoveries: 4 });
      await store.create(inst, []);
      expect(
        await store.reopen(inst.id, { owner: 'op#1', worker: 'op', leaseUntil: 0, now: 5 }, []),
      ).toBeUndefined();
      await store.checkpoint(
        checkpointOf(inst, { status: 'failed', resumeStatus: 'compensating', recoveries: 4 }),
      );
      const reopened = await store.reopen(inst.id, { owner: 'op#1', worker: 'op', leaseUntil: 0, now: 5 }, [
        ev('operator_resumed', null, { note: 'ticket-42' }),
      ]);
      expect(reopened).toMatchObject({
        status: 'compensating',
        resumeStatus: null,
        recoveries: 0,
        version: 3,
        leaseUntil: 0,
        owner: 'op#1',
      });
      expect((await store.timeline(inst.id)).at(-1)).toMatchObject({
        kind: 'operator_resumed',
        note: 'ticket-42',
      });
      expect(
        await store.reopen('missing-id', { owner: 'op#1', worker: 'op', leaseUntil: 0, now: 5 }, []),
      ).toBeUndefined();
    });

    it('lists newest first, filters by status and name, and pages with `before`', async () => {
      const name = uniqueName('list');
      const made: SagaInstance[] = [];
      for (let i = 0; i < 5; i++) {
        const inst = newInstance(name, {
          createdAt: 10_000 + i,
          updatedAt: 10_000 + i,
          status: i % 2 ? 'completed' : 'running',
        });
        made.push(inst);
        await store.create(inst, []);
      }
      const all = await store.list({ name });
      expect(all.map((r) => r.id)).toEqual(made.map((m) => m.id).reverse());
      const completed = await store.list({ name, status: 'completed' });
      expect(completed.map((r) => r.id)).toEqual([made[3]!.id, made[1]!.id]);
      const page1 = await store.list({ name, limit: 2 });
      const page2 = await store.list({ name, limit: 2, before: page1.at(-1)!.id });
      expect([...page1, ...page2].map((r) => r.id)).toEqual(all.slice(0, 4).map((r) => r.id));
      expect(await store.list({ name: uniqueName('nothing') })).toEqual([]);
    });

    it('keeps timelines in append order and counts instances by status', async () => {
      const before = await store.countByStatus();
      const name = uniqueName('count');
      const a = newInstance(name);
      const b = newInstance(name, { status: 'compensated' });
      await store.create(a, [ev('saga_started', null), ev('step_started', 's1')]);
      await store.create(b, []);
      await store.checkpoint(
        checkpointOf(a, {
          events: [ev('step_succeeded', 's1'), ev('saga_completed', null)],
          status: 'completed',
        }),
      );
      const kinds = (await store.timeline(a.id)).map((e) => e.kind);
      expect(kinds).toEqual(['saga_started', 'step_started', 'step_succeeded', 'saga_completed']);
      const seqs = (await store.timeline(a.id)).map((e) => e.seq);
      expect([...seqs].sort((x, y) => x - y)).toEqual(seqs);
      const after = await store.countByStatus();
      expect(after.completed - before.completed).toBe(1);
      expect(after.compensated - before.compensated).toBe(1);
      expect(await store.timeline('missing-id')).toEqual([]);
      expect(await store.get('missing-id')).toBeUndefined();
    });

    if (!options.transactional) return;
    it('joins the caller’s transaction when creating with `tx`', async () => {
      const db = fx.db!;
      const rolledBack = newInstance(uniqueName('tx'));
      await expect(
        db.transaction(async (tx) => {
          await store.create(rolledBack, [ev('saga_started', null)], tx);
          throw new Error('business write failed');
        }),
      ).rejects.toThrow('business write failed');
      expect(await store.get(rolledBack.id)).toBeUndefined();
      expect(await store.timeline(rolledBack.id)).toEqual([]);
      const committed = newInstance(uniqueName('tx'));
      const out = await db.transaction((tx) => store.create(committed, [ev('saga_started', null)], tx));
      expect(out.created).toBe(true);
      expect(await store.get(committed.id)).toEqual(committed);
    });
  });
}
