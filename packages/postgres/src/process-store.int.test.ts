import { describeProcessStoreContract } from '@trellis/saga/conformance';
import { createTestDatabase, serverUrl } from '@trellis/testing';
import { describe, expect, it } from 'vitest';
import { PostgresDatabase } from './database.js';
import { PostgresProcessStore } from './process-store.js';

describe.skipIf(!serverUrl('postgres'))('PostgresProcessStore', () => {
  describeProcessStoreContract('postgres', async () => {
    const db = PostgresDatabase.connect(await createTestDatabase('pm'));
    return { store: await PostgresProcessStore.create(db), close: () => db.close() };
  });

  it('load locks the flow: a second handler of the same flow waits for the first to commit', async () => {
    const db = PostgresDatabase.connect(await createTestDatabase('pm_lock'));
    const store = await PostgresProcessStore.create(db);
    const base = {
      manager: 'watch',
      correlationId: 'o1',
      status: 'active' as const,
      outcome: null,
      state: { n: 0 },
      deadlineAt: null,
      version: 0,
      createdAt: 1,
      updatedAt: 1,
      history: [],
    };
    await store.transaction((tx) => store.save(tx, base));
    const order: string[] = [];
    let releaseFirst!: () => void;
    const firstHolds = new Promise<void>((r) => {
      releaseFirst = r;
    });
    let firstLoaded!: () => void;
    const loaded = new Promise<void>((r) => {
      firstLoaded = r;
    });
    const bump = (who: string, hold?: Promise<void>) =>
      store.transaction(async (tx) => {
        const flow = (await store.load(tx, 'watch', 'o1'))!;
        if (hold) {
          firstLoaded();
          await hold;
        }
        order.push(who);
        await store.save(tx, { ...flow, state: { n: (flow.state as { n: number }).n + 1 } });
      });
    const first = bump('first', firstHolds);
    await loaded;
    const second = bump('second');
    await new Promise((r) => setTimeout(r, 100));
    expect(order).toEqual([]);
    releaseFirst();
    await Promise.all([first, second]);
    expect(order).toEqual(['first', 'second']);
    expect(await store.get('watch', 'o1')).toMatchObject({ version: 3, state: { n: 2 } });
    await db.close();
  });
});
