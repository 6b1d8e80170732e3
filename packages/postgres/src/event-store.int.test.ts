import type { SqlTransaction } from '@trellis/core';
import {
  type ConformanceFactory,
  describeEventStoreConformance,
  describeSqlProjectionConformance,
} from '@trellis/eventstore/conformance';
import { createTestDatabase, serverUrl } from '@trellis/testing';
import { describe } from 'vitest';
import { PostgresCheckpointStore } from './checkpoint-store.js';
import { PostgresDatabase } from './database.js';
import { PostgresEventStore } from './event-store.js';
import { PostgresSnapshotStore } from './snapshot-store.js';

describe.skipIf(!serverUrl('postgres'))('PostgresEventStore', () => {
  for (const groupCommit of [true, false]) {
    const label = `postgres (group commit ${groupCommit ? 'on' : 'off'})`;
    const factory: ConformanceFactory<SqlTransaction> = async () => {
      const url = await createTestDatabase('es');
      const main = PostgresDatabase.connect(url);
      const others: PostgresDatabase[] = [];
      const stores: PostgresEventStore[] = [];
      let first = true;
      return {
        // Later stores get their own pool to the same database, like another process.
        open: async (options) => {
          const db = first ? main : PostgresDatabase.connect(url);
          if (!first) others.push(db);
          first = false;
          const store = await PostgresEventStore.create(db, { ...options, groupCommit });
          stores.push(store);
          return store;
        },
        snapshots: await PostgresSnapshotStore.create(main),
        checkpoints: await PostgresCheckpointStore.create(main),
        close: async () => {
          for (const s of stores) await s.close();
          for (const db of others) await db.close();
          await main.close();
        },
      };
    };
    describeEventStoreConformance(label, factory);
    if (groupCommit) describeSqlProjectionConformance('postgres', factory);
  }
});
