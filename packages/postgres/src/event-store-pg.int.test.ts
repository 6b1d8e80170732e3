import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { ManualClock } from '@trellis/core';
import { isConcurrencyError, ProjectionRunner, subscribe } from '@trellis/eventstore';
import { OrderReadModel } from '@trellis/eventstore/examples';
import { createTestDatabase, postgresBinDirs, serverUrl } from '@trellis/testing';
import { describe, expect, it } from 'vitest';
import { PostgresCheckpointStore } from './checkpoint-store.js';
import { PostgresDatabase } from './database.js';
import { PostgresEventStore } from './event-store.js';

const tick = (n = 1) => Array.from({ length: n }, (_, i) => ({ eventType: 'Tick', payload: { i } }));

describe.skipIf(!serverUrl('postgres'))('PostgresEventStore specifics', () => {
  it('maps a unique (stream_id, version) violation to ConcurrencyError (Emmett PR #88)', async () => {
    const db = PostgresDatabase.connect(await createTestDatabase('es_unique'));
    const store = await PostgresEventStore.create(db, { groupCommit: false });
    // A writer that bypasses the append function holds version 1 of "s" uncommitted.
    const rogue = await db.pool.connect();
    try {
      await rogue.query('BEGIN');
      await rogue.query(
        `INSERT INTO trellis_events (position, stream_id, version, id, aggregate_type, event_type, schema_version, payload, metadata, created_at)
         VALUES (1000, 's', 1, 'rogue', 'T', 'Tick', 1, '{}', '{}', now())`,
      );
      const append = store.append('s', tick(), { expectedVersion: 'any' });
      await waitForLockWait(db);
      await rogue.query('COMMIT');
      const err = await append.catch((e) => e);
      expect(isConcurrencyError(err)).toBe(true);
      expect(err).toMatchObject({ streamId: 's', status: 409 });
      expect((err.cause as { code: string }).code).toBe('23505');
    } finally {
      rogue.release();
      await store.close();
      await db.close();
    }
  });

  it('group-commits concurrent appends, each with its own expected-version check', async () => {
    const db = PostgresDatabase.connect(await createTestDatabase('es_group'));
    const store = await PostgresEventStore.create(db);
    await store.append('contended', tick());
    const contended = Array.from({ length: 20 }, () =>
      store.append('contended', tick(2), { expectedVersion: 1 }),
    );
    const independent = Array.from({ length: 20 }, (_, i) =>
      store.append(`own-${i}`, tick(3), { expectedVersion: 'no_stream' }),
    );
    const results = await Promise.allSettled([...contended, ...independent]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(ok).toHaveLength(21);
    expect(failed).toHaveLength(19);
    expect(failed.every((r) => isConcurrencyError(r.reason))).toBe(true);
    const stats = store.groupCommitStats!;
    expect(stats.appends).toBe(41);
    expect(stats.batches).toBeLessThan(stats.appends);
    expect(stats.largestBatch).toBeGreaterThan(1);
    const all = await store.readAll(0, 1000);
    expect(all.map((e) => e.position)).toEqual(all.map((_, i) => i + 1));
    expect(all).toHaveLength(1 + 2 + 60);
    await store.close();
    await db.close();
  });

  it('calls hooks once per group-commit transaction with every appended event, in position order', async () => {
    const db = PostgresDatabase.connect(await createTestDatabase('es_group_hooks'));
    const store = await PostgresEventStore.create(db);
    const calls: Array<{ positions: number[]; streams: string[] }> = [];
    store.onAppend((_tx, events) => {
      calls.push({
        positions: events.map((e) => e.position),
        streams: [...new Set(events.map((e) => e.aggregateId))],
      });
    });
    await store.append('first', tick());
    await Promise.all(Array.from({ length: 6 }, (_, i) => store.append(`s-${i}`, tick(2))));
    const all = calls.flatMap((c) => c.positions);
    expect(all).toEqual(Array.from({ length: 13 }, (_, i) => i + 1));
    expect(calls.length).toBeLessThan(7); // the six concurrent appends shared transactions
    expect(calls.some((c) => c.streams.length > 1)).toBe(true);
    for (const c of calls) expect(c.positions).toEqual([...c.positions].sort((a, b) => a - b));
    await store.close();
    await db.close();
  });

  it('wakes a reader in another process through LISTEN/NOTIFY, without polling', async () => {
    const url = await createTestDatabase('es_notify');
    const [dbA, dbB] = [PostgresDatabase.connect(url), PostgresDatabase.connect(url)];
    const clock = new ManualClock(); // never advanced: only a notification can wake the reader
    const reader = await PostgresEventStore.create(dbA, { clock });
    const writer = await PostgresEventStore.create(dbB);
    const seen: number[] = [];
    const sub = subscribe(reader, {
      handler: (e) => void seen.push(e.position),
      clock,
      pollIntervalMs: 60_000,
    });
    await waitForListener(dbA);
    await writer.append('s', tick(2));
    await sub.waitFor(2);
    expect(seen).toEqual([1, 2]);
    await sub.stop();
    await reader.close();
    await writer.close();
    await Promise.all([dbA.close(), dbB.close()]);
  });

  it('survives pg_dump and restore: positions and checkpoints keep their meaning', async () => {
    const bin = postgresBinDirs()[0];
    if (!bin) throw new Error('PostgreSQL client binaries not found');
    const source = await createTestDatabase('es_dump_src');
    const db = PostgresDatabase.connect(source);
    const store = await PostgresEventStore.create(db);
    const checkpoints = await PostgresCheckpointStore.create(db);
    const model = new OrderReadModel();
    const runner = new ProjectionRunner({ store, checkpoints, projection: model });
    await runner.setup();
    await store.append('o-1', [{ eventType: 'ItemAdded', payload: { productId: 'p', quantity: 2 } }]);
    await store.append('o-2', [{ eventType: 'ItemAdded', payload: { productId: 'p', quantity: 1 } }]);
    await runner.catchUp();
    await store.append('o-1', [{ eventType: 'OrderSubmitted', payload: {} }]); // not yet projected
    await store.close();
    await db.close();

    const target = await createTestDatabase('es_dump_dst');
    const dump = execFileSync(join(bin, 'pg_dump'), ['--format=custom', source]);
    execFileSync(join(bin, 'pg_restore'), ['--no-owner', '-d', target], { input: dump });

    const restored = PostgresDatabase.connect(target);
    const store2 = await PostgresEventStore.create(restored);
    const checkpoints2 = await PostgresCheckpointStore.create(restored);
    expect(await store2.headPosition()).toBe(3);
    const next = await store2.append('o-3', [
      { eventType: 'ItemAdded', payload: { productId: 'p', quantity: 5 } },
    ]);
    expect(next.lastPosition).toBe(4);
    const runner2 = new ProjectionRunner({ store: store2, checkpoints: checkpoints2, projection: model });
    expect(await runner2.catchUp()).toBe(4);
    expect(await model.get(restored, 'o-1')).toMatchObject({ status: 'submitted', item_count: 2 });
    expect(await model.get(restored, 'o-3')).toMatchObject({ status: 'draft', item_count: 5 });
    await store2.close();
    await restored.close();
  });

  it('lets many processes create the schema at once', async () => {
    const url = await createTestDatabase('es_migrate');
    const dbs = Array.from({ length: 5 }, () => PostgresDatabase.connect(url));
    const stores = await Promise.all(dbs.map((db) => PostgresEventStore.create(db)));
    await stores[0]?.append('s', tick());
    expect(await stores[4]?.headPosition()).toBe(1);
    for (const s of stores) await s.close();
    for (const db of dbs) await db.close();
  });
});

async function waitForLockWait(db: PostgresDatabase): Promise<void> {
  for (;;) {
    const rows = await db.query(
      "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'",
    );
    if (rows.length > 0) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}

async function waitForListener(db: PostgresDatabase): Promise<void> {
  for (;;) {
    const rows = await db.query(
      "SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'",
    );
    if (rows.length > 0) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}
