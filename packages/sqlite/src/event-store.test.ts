import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SqlTransaction } from '@trellis/core';
import {
  type ConformanceFactory,
  describeEventStoreConformance,
  describeSqlProjectionConformance,
} from '@trellis/eventstore/conformance';
import { afterAll } from 'vitest';
import { SqliteCheckpointStore } from './checkpoint-store.js';
import { SqliteDatabase } from './database.js';
import { SqliteEventStore } from './event-store.js';
import { SqliteSnapshotStore } from './snapshot-store.js';

const dir = mkdtempSync(join(tmpdir(), 'trellis-es-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const factory: ConformanceFactory<SqlTransaction> = async () => {
  const file = join(dir, `${randomUUID()}.db`);
  const main = SqliteDatabase.open(file);
  const others: SqliteDatabase[] = [];
  let first = true;
  return {
    // The first store shares the main connection; later ones get their own connection to the
    // same file, like another process would.
    open: async (options) => {
      if (first) {
        first = false;
        return SqliteEventStore.create(main, options);
      }
      const db = SqliteDatabase.open(file);
      others.push(db);
      return SqliteEventStore.create(db, options);
    },
    snapshots: await SqliteSnapshotStore.create(main),
    checkpoints: await SqliteCheckpointStore.create(main),
    close: async () => {
      for (const db of others) await db.close();
      await main.close();
    },
  };
};

describeEventStoreConformance('sqlite', factory);
describeSqlProjectionConformance('sqlite', factory);
