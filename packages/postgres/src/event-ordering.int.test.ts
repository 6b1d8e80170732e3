import { sleep } from '@trellis/core';
import { subscribe } from '@trellis/eventstore';
import { createTestDatabase, serverUrl } from '@trellis/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PostgresDatabase } from './database.js';
import { PostgresEventStore } from './event-store.js';

/**
 * Guarantee 4: a catch-up reader of the global log never skips an event committed by a
 * slower concurrent transaction (Emmett lost events this way until its PR #336).
 */
describe.skipIf(!serverUrl('postgres'))('PostgreSQL global order', () => {
  let url: string;
  let db: PostgresDatabase;
  beforeAll(async () => {
    url = await createTestDatabase('es_order');
    db = PostgresDatabase.connect(url, { max: 30 });
  });
  afterAll(async () => {
    await db.close();
  });

  it('(control) a naive bigserial log really does lose a late committer', async () => {
    await db.execute('CREATE TABLE naive_log (position bigserial PRIMARY KEY, data text NOT NULL)');
    const slow = await db.pool.connect();
    try {
      await slow.query('BEGIN');
      await slow.query("INSERT INTO naive_log (data) VALUES ('slow')"); // takes position 1
      await db.execute("INSERT INTO naive_log (data) VALUES ('fast')"); // takes 2 and commits first
      const seen: number[] = [];
      let cursor = 0;
      const poll = async () => {
        const rows = await db.query<{ position: number }>(
          'SELECT position FROM naive_log WHERE position > $1 ORDER BY position',
          [cursor],
        );
        for (const r of rows) {
          cursor = r.position;
          seen.push(cursor);
        }
      };
      await poll();
      await slow.query('COMMIT');
      await poll();
      expect(seen).toEqual([2]); // position 1 is never delivered
    } finally {
      slow.release();
    }
  });

  it('makes a fast appender wait for a slower one, so the reader sees both, in order', async () => {
    const store = await PostgresEventStore.create(db);
    const reader = await PostgresEventStore.create(db);
    let appended!: () => void;
    const slowAppended = new Promise<void>((r) => {
      appended = r;
    });
    const slow = store.transaction(async (tx) => {
      await store.append('slow', [{ eventType: 'E', payload: {} }], { tx });
      appended();
      // Hold the transaction open until the fast appender is queued behind our lock.
      await waitForLockWaiter(db);
      expect(await reader.readAll()).toEqual([]); // neither is visible yet: no hole to skip
    });
    await slowAppended;
    const fast = store.append('fast', [{ eventType: 'E', payload: {} }]);
    await Promise.all([slow, fast]);
    const all = await reader.readAll();
    expect(all.map((e) => [e.position, e.aggregateId])).toEqual([
      [1, 'slow'],
      [2, 'fast'],
    ]);
    await store.close();
  });

  it('delivers every event once, in order, to a tailing reader while writers commit with random delays', async () => {
    const writerDb = PostgresDatabase.connect(url, { max: 20 });
    const writers = await PostgresEventStore.create(writerDb);
    const reader = await PostgresEventStore.create(db);
    const start = await reader.headPosition();
    const seen: Array<{ position: number; id: string }> = [];
    const sub = subscribe(reader, {
      from: start,
      batchSize: 5,
      pollIntervalMs: 2,
      handler: (e) => void seen.push({ position: e.position, id: e.id }),
    });
    const written: string[] = [];
    const writer = async (w: number) => {
      for (let i = 0; i < 15; i++) {
        const events = Array.from({ length: 1 + ((w + i) % 3) }, () => ({
          eventType: 'E',
          payload: { w, i },
        }));
        if ((w + i) % 2 === 0) {
          // An explicit transaction that stays open a random while after appending.
          const r = await writers.transaction(async (tx) => {
            const res = await writers.append(`w-${w}`, events, { tx });
            await sleep(Math.random() * 8);
            return res;
          });
          written.push(...r.events.map((e) => e.id));
        } else {
          const r = await writers.append(`w-${w}`, events); // group commit
          written.push(...r.events.map((e) => e.id));
        }
        await sleep(Math.random() * 3);
      }
    };
    await Promise.all(Array.from({ length: 8 }, (_, w) => writer(w)));
    const head = await reader.headPosition();
    await sub.waitFor(head);
    await sub.stop();
    expect(seen.map((s) => s.position)).toEqual(
      Array.from({ length: head - start }, (_, i) => start + i + 1),
    );
    expect(new Set(seen.map((s) => s.id)).size).toBe(seen.length);
    expect(new Set(seen.map((s) => s.id))).toEqual(new Set(written));
    await writers.close();
    await reader.close();
    await writerDb.close();
  });
});

/** Resolves once some session is waiting on a lock while calling the append function. */
async function waitForLockWaiter(db: PostgresDatabase): Promise<void> {
  for (;;) {
    const rows = await db.query(
      `SELECT 1 FROM pg_stat_activity
       WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%trellis_append_events%'`,
    );
    if (rows.length > 0) return;
    await sleep(5);
  }
}
