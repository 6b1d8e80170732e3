import { PostgresDatabase } from '@trellis/postgres';
import { createTestDatabase, serverUrl } from '@trellis/testing';
import { describe } from 'vitest';
import { describeRunStoreConformance } from '../conformance/index.js';
import { SqlRunStore } from './sql-run-store.js';

describe.skipIf(!serverUrl('postgres'))('SqlRunStore on PostgreSQL', () => {
  describeRunStoreConformance(
    'SqlRunStore on PostgreSQL',
    async () => {
      const url = await createTestDatabase('agent_runs');
      const opened: PostgresDatabase[] = [];
      const open = async () => {
        const db = PostgresDatabase.connect(url);
        opened.push(db);
        const store = new SqlRunStore(db);
        await store.migrate();
        return store;
      };
      return {
        store: await open(),
        reopen: open,
        close: async () => {
          for (const db of opened) await db.close();
        },
      };
    },
    { durable: true },
  );
});
